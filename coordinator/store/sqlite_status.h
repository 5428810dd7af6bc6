// Turns SQLiteCpp exceptions into Status values, so that no exception leaves
// the store module.
//
// busy/locked -> kUnavailable (retry), a uniqueness violation ->
// kAlreadyExists, any other constraint (foreign key, check, the append-only
// triggers) -> kFailedPrecondition, anything else -> kInternal. Pure and
// thread-safe.
#ifndef MIMI_STORE_SQLITE_STATUS_H_
#define MIMI_STORE_SQLITE_STATUS_H_

#include <exception>
#include <string_view>

#include "mimi_portability/status.h"

namespace mimi::store {

// Call only from inside a catch block; `what` says what was being done.
Status StatusFromCurrentException(std::string_view what);

}  // namespace mimi::store

#endif  // MIMI_STORE_SQLITE_STATUS_H_
