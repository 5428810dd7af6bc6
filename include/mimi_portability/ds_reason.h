// The reasons of the DeliveryService contract (delivery_service.h): the
// stable names a DS gives its refusals, in one place so that the embedded
// DS, the HTTP hook adapter, the protocol and the HTTP front end agree.
// Each reason travels with exactly one StatusCode, the one named beside it
// and listed in delivery_service.h; docs/ds-interface.md gives the HTTP
// status each is answered with.
//
// Constants only; thread-safe.
#ifndef MIMI_PORTABILITY_DS_REASON_H_
#define MIMI_PORTABILITY_DS_REASON_H_

#include <string_view>

namespace mimi::ds_reason {

// kNotFound: no such group on this DS.
inline constexpr std::string_view kUnknownGroup = "unknown-group";
// kNotFound: the group left this DS (a tombstone names where it went), for
// every call, including a delete under another migration than the one the
// group left under.
inline constexpr std::string_view kMoved = "moved";
// kNotFound: a blank or absent leaf.
inline constexpr std::string_view kUnknownLeaf = "unknown-leaf";
// kFailedPrecondition: another migration holds the group.
inline constexpr std::string_view kGroupFrozen = "group-frozen";
// kFailedPrecondition: the group is not frozen by this migration.
inline constexpr std::string_view kNotFrozen = "not-frozen";
// kFailedPrecondition: the group is at another epoch.
inline constexpr std::string_view kEpochMismatch = "epoch-mismatch";
// kAlreadyExists: the group lives here (under another migration).
inline constexpr std::string_view kGroupExists = "group-exists";

}  // namespace mimi::ds_reason

#endif  // MIMI_PORTABILITY_DS_REASON_H_
