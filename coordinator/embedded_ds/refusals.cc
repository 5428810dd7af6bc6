#include "embedded_ds/refusals.h"

#include "mimi_portability/ds_reason.h"

namespace mimi::embedded_ds {

std::string GroupHex(ByteSpan group_id) { return ToHex(group_id); }

Status MovedError(const Tombstone& t) {
  return Status(StatusCode::kNotFound, std::string(ds_reason::kMoved),
                "group " + GroupHex(t.group_id) + " moved to " + t.moved_to);
}

Status MovedUnderAnotherMigration(ByteSpan group_id) {
  return Status(
      StatusCode::kNotFound, std::string(ds_reason::kMoved),
      "group " + GroupHex(group_id) + " already left under another migration");
}

Status UnknownGroup(ByteSpan group_id) {
  return Status(StatusCode::kNotFound, std::string(ds_reason::kUnknownGroup),
                "no group " + GroupHex(group_id) + " here");
}

// The detail does not name the migration: its id is the nonce that opens
// the migration's status endpoint, and this refusal goes to anyone.
Status FrozenError(ByteSpan group_id) {
  return Status(StatusCode::kFailedPrecondition,
                std::string(ds_reason::kGroupFrozen),
                "group " + GroupHex(group_id) + " is frozen by a migration");
}

Status NotFrozenError(ByteSpan group_id, std::string_view migration_id) {
  return Status(StatusCode::kFailedPrecondition,
                std::string(ds_reason::kNotFrozen),
                "group " + GroupHex(group_id) + " is not frozen by migration " +
                    std::string(migration_id));
}

Status EpochError(std::string_view what, uint64_t got, uint64_t current) {
  return Status(StatusCode::kFailedPrecondition,
                std::string(ds_reason::kEpochMismatch),
                std::string(what) + " for epoch " + std::to_string(got) +
                    ", group is at epoch " + std::to_string(current));
}

Status GroupExists(ByteSpan group_id) {
  return Status(StatusCode::kAlreadyExists,
                std::string(ds_reason::kGroupExists),
                "group " + GroupHex(group_id) + " already lives here");
}

Status WrongEpoch(uint64_t claimed, uint64_t current) {
  return Status(StatusCode::kFailedPrecondition, "wrong-epoch",
                "MIMI-Epoch is " + std::to_string(claimed) +
                    ", the group is at epoch " + std::to_string(current));
}

Status BadGroupInfo(const std::string& detail) {
  return Status(StatusCode::kInvalidArgument, "bad-group-info", detail);
}

}  // namespace mimi::embedded_ds
