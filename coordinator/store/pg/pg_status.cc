#include "store/pg/pg_status.h"

#include <string>

namespace mimi::store::pg {

bool IsRetryableSqlState(std::string_view sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01";
}

Status StatusFromSqlState(std::string_view what, std::string_view sqlstate,
                          std::string_view message) {
  // libpq's messages end in a newline; the detail is one line.
  while (!message.empty() &&
         (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  std::string detail = std::string(what) + ": " + std::string(message);
  if (!sqlstate.empty()) detail += " (SQLSTATE " + std::string(sqlstate) + ")";
  if (sqlstate.empty() || sqlstate.substr(0, 2) == "08" ||
      sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
    return UnavailableError("database connection lost: " + detail);
  }
  if (IsRetryableSqlState(sqlstate)) {
    return UnavailableError("database busy: " + detail);
  }
  if (sqlstate == "23505") {
    return Status(StatusCode::kAlreadyExists, detail);
  }
  if (sqlstate.substr(0, 2) == "23" || sqlstate == "P0001") {
    return Status(StatusCode::kFailedPrecondition, detail);
  }
  return InternalError(detail);
}

}  // namespace mimi::store::pg
