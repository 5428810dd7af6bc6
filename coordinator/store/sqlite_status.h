// Turns SQLiteCpp exceptions into Status values, so that no exception leaves
// the store module (nor the embedded DS, which uses the same helpers).
//
// busy/locked -> kUnavailable (retry); disk full and I/O errors ->
// kUnavailable with reason kStorageUnavailable (store.h) and a detail that
// says "disk full" or "I/O error" (SQLite rolled the write back, so a retry
// once the disk is writable is safe); a uniqueness violation ->
// kAlreadyExists, any other constraint (foreign key, check, the append-only
// triggers) -> kFailedPrecondition, anything else -> kInternal. Pure and
// thread-safe.
#ifndef MIMI_STORE_SQLITE_STATUS_H_
#define MIMI_STORE_SQLITE_STATUS_H_

#include <exception>
#include <string_view>
#include <type_traits>

#include "mimi_portability/status.h"

namespace mimi::store {

// Call only from inside a catch block; `what` says what was being done.
Status StatusFromCurrentException(std::string_view what);

// Runs `f` (returning Status or Result<T>) and returns what it returns, or,
// if it throws, the exception as a Status prefixed with `what` ("reading
// source migration X"). The one place where the store and the embedded DS
// catch what SQLiteCpp throws.
template <typename F>
auto Guarded(std::string_view what, F&& f) -> std::invoke_result_t<F&> {
  try {
    return f();
  } catch (...) {
    return StatusFromCurrentException(what);
  }
}

}  // namespace mimi::store

#endif  // MIMI_STORE_SQLITE_STATUS_H_
