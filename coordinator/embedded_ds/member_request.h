// The signature that authenticates a member's request to the embedded DS's
// member API (/ds/v1; docs/protocol.md, "Member API authentication"):
//
//   struct {
//     opaque method<V>;   // "POST" or "GET"
//     opaque path<V>;     // request path without query
//     opaque group_id<V>;
//     uint64 epoch;       // MIMI-Epoch: the group's current epoch at the DS
//     uint32 sender;      // MIMI-Sender: the member's leaf index
//     opaque body<V>;     // the body bytes as sent (empty for GET)
//   } DSMemberRequestTBS;
//
// signed as SignWithLabel(leaf signature key, "DSMemberRequest", TBS) with the
// project's label prefix, so the full label is
// "MIMI Portability 1.0 DSMemberRequest". The three headers carry sender,
// epoch and the hex signature. Both the DS (verify) and member clients and
// tests (sign) go through these functions, so the TBS cannot drift.
//
// Pure functions; thread-safe.
#ifndef MIMI_EMBEDDED_DS_MEMBER_REQUEST_H_
#define MIMI_EMBEDDED_DS_MEMBER_REQUEST_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/signing_key.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::embedded_ds {

inline constexpr std::string_view kMemberRequestLabel = "DSMemberRequest";
inline constexpr char kSenderHeader[] = "MIMI-Sender";
inline constexpr char kEpochHeader[] = "MIMI-Epoch";
inline constexpr char kSignatureHeader[] = "MIMI-Signature";

struct MemberRequest {
  std::string method;
  std::string path;
  Bytes group_id;
  uint64_t epoch = 0;
  uint32_t sender = 0;
  std::string body;
  Bytes signature;
};

// The serialized DSMemberRequestTBS of `req` (its signature is not part).
Result<Bytes> MemberRequestTbs(const MemberRequest& req);

// Fills req->signature with `key` (the member's leaf signature key).
Status SignMemberRequest(const crypto::SigningKey& key, MemberRequest* req);

// OK, or kBadSignature, with the leaf's signature key bytes as the tree
// carries them (compressed P-256 accepted) in the suite's scheme.
Status VerifyMemberRequest(uint16_t cipher_suite, ByteSpan leaf_signature_key,
                           const MemberRequest& req);

}  // namespace mimi::embedded_ds

#endif  // MIMI_EMBEDDED_DS_MEMBER_REQUEST_H_
