// GroupState: the portable form of a group that travels inside
// MigrationContent.group_state. The draft leaves it opaque; this project
// fixes it (docs/protocol.md, "group_state") so that any two DSs that follow
// the contract — the embedded one or an operator's own behind the HTTP
// hooks — can hand a group to each other.
//
// It carries what a DS needs to keep serving the group once the migration
// commit is processed: the suite, id and epoch of the group *before* the
// commit, its GroupInfo and ratchet tree at that epoch, the migration commit
// itself (so members that missed the source's fan-out get it from the target),
// and the messages of the current epoch that members may not have fetched
// yet, and (version 2) the last sequence number the exporting DS assigned, so
// that the importing DS continues the group's numbering and a member's
// fetch cursor stays valid across the move (docs/protocol.md §3.7). Encoded
// like the protocol messages (TLS presentation language, RFC 9420 §2.1),
// strictly decoded. Pure functions; thread-safe.
#ifndef MIMI_PORTABILITY_GROUP_STATE_H_
#define MIMI_PORTABILITY_GROUP_STATE_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi {

// What this project writes; DecodeGroupState also reads version 1.
inline constexpr uint16_t kGroupStateVersion = 2;

// struct {
//   uint64 seq;          // order at the exporting DS
//   opaque message<V>;   // one MLSMessage
// } StoredMessage;
struct StoredMessage {
  uint64_t seq = 0;
  Bytes message;
  bool operator==(const StoredMessage&) const = default;
};

// struct {
//   uint16 version = 2;
//   uint16 cipher_suite;
//   opaque group_id<V>;
//   uint64 epoch;                     // before the migration commit
//   opaque group_info<V>;             // MLSMessage(GroupInfo) at epoch, may be empty
//   opaque ratchet_tree<V>;           // RFC 9420 ratchet_tree at epoch
//   opaque migration_commit<V>;       // the tagged commit (MLSMessage)
//   StoredMessage pending_messages<V>;
//   uint64 last_seq;                  // version 2 only
// } GroupState;
//
// pending_messages are in strictly increasing seq order, every seq >= 1 and
// (version 2) <= last_seq: the importer keeps these numbers, then gives the
// migration commit last_seq + 1, the seq the exporter gives it at fan-out.
// Version 1 has no last_seq; it decodes with last_seq = the largest pending
// seq, or 0 without pending messages.
struct GroupState {
  uint16_t version = kGroupStateVersion;
  uint16_t cipher_suite = 0;
  Bytes group_id;
  uint64_t epoch = 0;
  Bytes group_info;
  Bytes ratchet_tree;
  Bytes migration_commit;
  std::vector<StoredMessage> pending_messages;
  uint64_t last_seq = 0;
  bool operator==(const GroupState&) const = default;
};

// A GroupState decoded without copying its byte fields: they point into the
// decoded bytes, which must outlive the view (a group state of tens of MiB
// is checked and imported from the received content itself).
struct StoredMessageView {
  uint64_t seq = 0;
  ByteSpan message;
};
struct GroupStateView {
  uint16_t version = kGroupStateVersion;
  uint16_t cipher_suite = 0;
  ByteSpan group_id;
  uint64_t epoch = 0;
  ByteSpan group_info;
  ByteSpan ratchet_tree;
  ByteSpan migration_commit;
  std::vector<StoredMessageView> pending_messages;
  uint64_t last_seq = 0;
};

// Writes state.version's layout (1 or 2); kInvalidArgument if the seqs break
// the rules above (for version 1: if last_seq is not what a reader derives).
Result<Bytes> Encode(const GroupState& state);
// Encode(state) with a ratchet tree of `tree_size` bytes that `fill_tree`
// writes into its place in the encoding (state.ratchet_tree is ignored): a
// tree read straight from storage into the encoding, never held apart. The
// result has room for `spare_capacity` more bytes without reallocating.
Result<Bytes> EncodeWithTree(
    const GroupState& state, size_t tree_size,
    const std::function<Status(std::span<uint8_t>)>& fill_tree,
    size_t spare_capacity);
// Strict; a version other than 1 or 2 is kUnsupported, seqs out of order or
// beyond last_seq are kMalformed.
Result<GroupState> DecodeGroupState(ByteSpan bytes);
// The same checks and errors as DecodeGroupState, without the copies.
Result<GroupStateView> DecodeGroupStateView(ByteSpan bytes);

}  // namespace mimi

#endif  // MIMI_PORTABILITY_GROUP_STATE_H_
