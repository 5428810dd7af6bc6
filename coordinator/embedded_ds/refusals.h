// The embedded DS's refusals that more than one of its operations give:
// those of the DeliveryService contract (reasons and codes from
// mimi_portability/ds_reason.h) and those of its member API
// (docs/ds-api.md).
//
// Pure functions; thread-safe.
#ifndef MIMI_EMBEDDED_DS_REFUSALS_H_
#define MIMI_EMBEDDED_DS_REFUSALS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/delivery_service.h"
#include "mimi_portability/status.h"

namespace mimi::embedded_ds {

std::string GroupHex(ByteSpan group_id);

// kNotFound "moved", naming where the group went.
Status MovedError(const Tombstone& t);
// kNotFound "moved", for a delete under another migration than the one the
// group left under: the same code as every other call on a moved group.
Status MovedUnderAnotherMigration(ByteSpan group_id);
// kNotFound "unknown-group".
Status UnknownGroup(ByteSpan group_id);
// kFailedPrecondition "group-frozen".
Status FrozenError(ByteSpan group_id);
// kFailedPrecondition "not-frozen".
Status NotFrozenError(ByteSpan group_id, std::string_view migration_id);
// kFailedPrecondition "epoch-mismatch": a commit, message or freeze for
// another epoch than the group's.
Status EpochError(std::string_view what, uint64_t got, uint64_t current);
// kAlreadyExists "group-exists".
Status GroupExists(ByteSpan group_id);

// Member API: kFailedPrecondition "wrong-epoch" (MIMI-Epoch is not the
// group's epoch).
Status WrongEpoch(uint64_t claimed, uint64_t current);
// Member API: kInvalidArgument "bad-group-info".
Status BadGroupInfo(const std::string& detail);

}  // namespace mimi::embedded_ds

#endif  // MIMI_EMBEDDED_DS_REFUSALS_H_
