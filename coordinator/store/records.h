// The plain values the migration store keeps: roles, states, one migration
// row, its events, issued nonces and tombstones (docs/protocol.md §4).
//
// Plain data; copyable; no synchronisation. State and role names are the
// stable strings persisted in the database and shown by the CLI.
#ifndef MIMI_STORE_RECORDS_H_
#define MIMI_STORE_RECORDS_H_

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"

namespace mimi::store {

enum class Role { kSource, kTarget };

enum class MigrationState {
  // Source.
  kInitiated,
  kContentSent,
  kTargetComplete,
  kConfirmed,
  kPurged,
  // Source: the abort was decided and MigrationAbort stored, but the target's
  // MigrationAbortAck is not in yet. The project's own state
  // (docs/protocol.md §4): the decision must be durable before
  // MigrationAbort leaves, so that after a crash recovery keeps aborting
  // instead of resending content.
  kAbortRequested,
  // Both roles.
  kAborted,
  // Target.
  kRequested,
  kImported,
  kExpired,
};

std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view name);
std::string_view StateName(MigrationState state);
Result<MigrationState> ParseState(std::string_view name);

// A migration id as a client or operator writes it: 64 hex digits in either
// case, returned in the stored (lowercase) form; kMalformed otherwise.
Result<std::string> ParseMigrationId(std::string_view text);

// The protocol messages stored with a migration, each in the write-once
// migration_messages table (docs/protocol.md §4 "Storage"): written by the
// creation or transition that produced it and never rewritten.
enum class MessageKind {
  kRequest,         // MigrationRequest
  kResponse,        // MigrationResponse
  kInitRequest,     // MigrationInitRequest (source)
  kCommit,          // the MLSMessage commit (source)
  kContent,         // MigrationContent
  kTargetComplete,  // TargetMigrationComplete
  kConfirmation,    // MigrationConfirmation
  kAbortMessage,    // MigrationAbort
  kAbortAck,        // MigrationAbortAck
};

inline constexpr MessageKind kAllMessageKinds[] = {
    MessageKind::kRequest,      MessageKind::kResponse,
    MessageKind::kInitRequest,  MessageKind::kCommit,
    MessageKind::kContent,      MessageKind::kTargetComplete,
    MessageKind::kConfirmation, MessageKind::kAbortMessage,
    MessageKind::kAbortAck,
};

// The stable name stored in migration_messages.kind (and the key of the
// admin API's "messages" object).
std::string_view MessageKindName(MessageKind kind);

// A set of message kinds, one bit each: what a read loads with a row.
using MessageSet = uint32_t;
constexpr MessageSet MessageBit(MessageKind kind) {
  return MessageSet{1} << static_cast<int>(kind);
}
inline constexpr MessageSet kNoMessages = 0;
inline constexpr MessageSet kAllMessages =
    (MessageSet{1} << std::size(kAllMessageKinds)) - 1;

// One row of the migrations table: one migration as seen by one role. The
// protocol messages are their wire serializations; empty means "not yet",
// or "not loaded": Store::Get and the lists leave them empty, and a caller
// that needs one asks for it (Store::GetMessage, Store::GetWithMessages), so
// that reading a row never reads a large content.
struct MigrationRecord {
  std::string id;  // lowercase hex of the 32-byte nonce
  Role role = Role::kSource;
  MigrationState state = MigrationState::kInitiated;
  Bytes group_id;
  uint64_t epoch = 0;
  uint16_t ciphersuite = 0;
  std::string source_domain;
  std::string target_domain;

  Bytes request;          // MigrationRequest
  Bytes response;         // MigrationResponse
  Bytes init_request;     // MigrationInitRequest (source)
  Bytes commit;           // the MLSMessage commit (source)
  Bytes content;          // MigrationContent
  Bytes content_hash;     // Hash(MigrationContent)
  Bytes target_complete;  // TargetMigrationComplete
  Bytes confirmation;     // MigrationConfirmation
  Bytes abort_message;    // MigrationAbort
  Bytes abort_ack;        // MigrationAbortAck

  // Recovery bookkeeping.
  int64_t attempt_count = 0;
  std::optional<UnixMillis> next_attempt_at;
  std::optional<std::string> lease_owner;
  std::optional<UnixMillis> lease_expires_at;
  // The LeaseHolder::holder_id of lease_owner; empty for a free lease and
  // for one taken before schema step 5 (docs/protocol.md §4 "Lease
  // ownership").
  std::optional<std::string> lease_holder;
  std::string last_error;
  std::optional<UnixMillis> stalled_since;

  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;

  bool operator==(const MigrationRecord&) const = default;
};

// The record's field that holds `kind`.
Bytes& MessageOf(MigrationRecord& record, MessageKind kind);
const Bytes& MessageOf(const MigrationRecord& record, MessageKind kind);

// One row of the append-only event log.
struct MigrationEvent {
  int64_t seq = 0;  // increases with every event in the database
  std::string migration_id;
  Role role = Role::kSource;
  std::optional<MigrationState> from_state;  // empty: the row was created
  MigrationState to_state = MigrationState::kInitiated;
  UnixMillis at = 0;
  std::string detail;

  bool operator==(const MigrationEvent&) const = default;
};

struct IssuedNonce {
  std::string nonce;  // lowercase hex
  uint16_t ciphersuite = 0;
  UnixMillis issued_at = 0;
  UnixMillis expires_at = 0;

  bool operator==(const IssuedNonce&) const = default;
};

struct Tombstone {
  Bytes group_id;
  std::string target_domain;
  std::string migration_id;
  UnixMillis moved_at = 0;
  Bytes confirmation;  // the signed MigrationConfirmation

  bool operator==(const Tombstone&) const = default;
};

// One daemon start as the holder of leases (docs/protocol.md §4 "Lease
// ownership"): a lease owner is "<holder_id>#<n>". Dead once a later
// incarnation of the same instance has started or it stopped (ended_at),
// or once its heartbeat has lapsed (alive_until); a dead holder's leases
// are taken over at once (Store::ReclaimDeadLeases).
struct LeaseHolder {
  std::string holder_id;  // "<instance_id>/<incarnation>"
  std::string instance_id;
  int64_t incarnation = 0;  // 1, 2, ... per instance_id
  std::string host;         // where it ran, for operators
  int64_t pid = 0;
  UnixMillis started_at = 0;
  UnixMillis heartbeat_at = 0;
  UnixMillis alive_until = 0;
  std::optional<UnixMillis> ended_at;

  bool AliveAt(UnixMillis now) const { return !ended_at && alive_until > now; }
  bool operator==(const LeaseHolder&) const = default;
};

// A lease Store::ReclaimDeadLeases took from a dead holder before it
// expired.
struct ReclaimedLease {
  std::string id;
  Role role = Role::kSource;
  std::string owner;      // the lease_owner it had
  std::string holder_id;  // its dead holder
  UnixMillis expires_at = 0;

  bool operator==(const ReclaimedLease&) const = default;
};

// The holder part of a lease owner: everything before its last '#' (the
// owner itself when it has none).
std::string_view LeaseHolderOf(std::string_view owner);

// The owner under which recovery claims due rows for `holder`
// (Store::ClaimDueKeys): "<holder>#claim", which no driver's owner
// ("<holder>#<n>") equals, and whose holder part is `holder`, so that a dead
// holder's claims are taken over like its leases.
std::string ClaimOwnerOf(std::string_view holder);

// An instance id a store registers a lease holder under: non-empty, without
// the '/' and '#' that separate incarnation and lease counter in an owner.
// kInvalidArgument otherwise.
Status CheckInstanceId(std::string_view instance_id);

struct StateCount {
  Role role = Role::kSource;
  MigrationState state = MigrationState::kInitiated;
  int64_t count = 0;

  bool operator==(const StateCount&) const = default;
};

}  // namespace mimi::store

#endif  // MIMI_STORE_RECORDS_H_
