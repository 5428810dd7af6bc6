// The stable error codes ("reasons") of the protocol endpoints, in one place
// so that docs/protocol.md, the handlers and the tests agree. Each refusal
// is a Status whose code picks the HTTP status (daemon/http_server.cc) and
// whose reason is the `error` field of the JSON body.
//
// Constants and pure functions; thread-safe.
#ifndef MIMI_PROTOCOL_REFUSAL_H_
#define MIMI_PROTOCOL_REFUSAL_H_

#include <string>
#include <string_view>

#include "mimi_portability/ds_reason.h"
#include "mimi_portability/status.h"

namespace mimi::protocol {

namespace reason {
// Request shape.
inline constexpr std::string_view kWrongContentType = "wrong-content-type";
inline constexpr std::string_view kMissingCipherSuite = "missing-ciphersuite";
inline constexpr std::string_view kUnsupportedCipherSuite = "unsupported-ciphersuite";
// Who is asking and about whom.
inline constexpr std::string_view kUnauthorized = "unauthorized";
inline constexpr std::string_view kPeerDenied = "peer-denied";
inline constexpr std::string_view kNotTarget = "not-target";
inline constexpr std::string_view kWrongSource = "wrong-source";
inline constexpr std::string_view kCooldown = "cooldown";
// The group.
// (those a DS gives too are the DS contract's, ds_reason.h)
inline constexpr std::string_view kGroupExists = ds_reason::kGroupExists;
inline constexpr std::string_view kUnknownGroup = ds_reason::kUnknownGroup;
inline constexpr std::string_view kGroupFrozen = ds_reason::kGroupFrozen;
inline constexpr std::string_view kEpochMismatch = ds_reason::kEpochMismatch;
inline constexpr std::string_view kUnknownLeaf = ds_reason::kUnknownLeaf;
inline constexpr std::string_view kGroupStateMismatch = "group-state-mismatch";
// The tagged commit.
inline constexpr std::string_view kCommitWrongGroup = "commit-wrong-group";
inline constexpr std::string_view kCommitWrongEpoch = "commit-wrong-epoch";
inline constexpr std::string_view kCommitWrongSender = "commit-wrong-sender";
inline constexpr std::string_view kNotACommit = "not-a-commit";
inline constexpr std::string_view kAadMismatch = "aad-mismatch";
// Nonces.
inline constexpr std::string_view kUnknownNonce = "unknown-nonce";
inline constexpr std::string_view kNonceExpired = "nonce-expired";
inline constexpr std::string_view kNonceUsed = "nonce-used";
inline constexpr std::string_view kResponseMismatch = "response-mismatch";
inline constexpr std::string_view kMigrationAborted = "migration-aborted";
// The target holds the imported group but has not recorded it: resend the
// content (answered to an abort after a crash between import and record).
inline constexpr std::string_view kContentPending = "content-pending";
// Leases: another driver holds this migration right now; retry shortly.
inline constexpr std::string_view kBusy = "busy";
}  // namespace reason

inline Status Refuse(StatusCode code, std::string_view why, std::string detail) {
  return Status(code, std::string(why), std::move(detail));
}

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_REFUSAL_H_
