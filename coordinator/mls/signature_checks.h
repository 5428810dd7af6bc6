// The MLS signatures a Delivery Service can check without group secrets:
//
//  - a GroupInfo's signature (RFC 9420 §12.4.3: SignWithLabel(., "GroupInfoTBS",
//    GroupInfoTBS)) under the signature key of its `signer` leaf;
//  - a PublicMessage's signature (§6.1: SignWithLabel(., "FramedContentTBS",
//    FramedContentTBS)) from a member, which covers the GroupContext of the
//    epoch it was sent in.
//
// Both use MLS's own label prefix "MLS 1.0 " and are built over the bytes as
// received (GroupInfo::signed_fields, PublicMessage::framed_content). Keys
// are the leaf's `signature_key` bytes in the suite's scheme (compressed
// P-256 points accepted, see docs/protocol.md §2.2). A key that does not
// parse and a signature that does not verify are both kBadSignature: to the
// caller either way the sender is not proven. The Sign* helpers are for
// tests that play a member. Pure functions; thread-safe.
#ifndef MIMI_MLS_SIGNATURE_CHECKS_H_
#define MIMI_MLS_SIGNATURE_CHECKS_H_

#include <cstdint>

#include "crypto/signing_key.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/group_info.h"
#include "mls/mls_message.h"

namespace mimi::mls {

inline constexpr std::string_view kGroupInfoTbsLabel = "GroupInfoTBS";
inline constexpr std::string_view kFramedContentTbsLabel = "FramedContentTBS";

Status VerifyGroupInfoSignature(const GroupInfo& info, ByteSpan signer_key);

// FramedContentTBS of a PublicMessage from a member: version, wire_format
// mls_public_message, the FramedContent bytes, the epoch's GroupContext.
Bytes MemberFramedContentTbs(ByteSpan framed_content, ByteSpan group_context);

// kInvalidArgument if the sender is not a member (other senders are signed
// over a different TBS that a DS has no use for).
Status VerifyPublicMessageSignature(uint16_t cipher_suite, const PublicMessage& msg,
                                    ByteSpan group_context, ByteSpan sender_key);

}  // namespace mimi::mls

#endif  // MIMI_MLS_SIGNATURE_CHECKS_H_
