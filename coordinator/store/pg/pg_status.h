// Turns libpq failures into Status values, so that no libpq error leaves the
// PostgreSQL store as anything but the project's closed set of codes.
//
// By SQLSTATE (PostgreSQL's stable error codes, Appendix A of its manual):
// serialization failure (40001) and deadlock (40P01) -> kUnavailable (retry
// the transaction), unique violation (23505) -> kAlreadyExists, any other
// integrity violation (class 23: foreign key, check, not null) and the
// store's own triggers (raise_exception, P0001) -> kFailedPrecondition, a
// lost or refused connection (class 08, admin shutdown 57P01..57P03) ->
// kUnavailable, anything else -> kInternal. Pure and thread-safe.
#ifndef MIMI_STORE_PG_PG_STATUS_H_
#define MIMI_STORE_PG_PG_STATUS_H_

#include <string_view>

#include "mimi_portability/status.h"

namespace mimi::store::pg {

// The Status for a failed statement with SQLSTATE `sqlstate` (empty when
// libpq had none: the connection broke) and libpq's message.
Status StatusFromSqlState(std::string_view what, std::string_view sqlstate,
                          std::string_view message);

// Whether a failed transaction may simply be run again: it was rolled back
// by a serialization failure or a deadlock, not refused for what it did.
bool IsRetryableSqlState(std::string_view sqlstate);

// The Status of a Status or a Result, for code generic over both.
inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace mimi::store::pg

#endif  // MIMI_STORE_PG_PG_STATUS_H_
