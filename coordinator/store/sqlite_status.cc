#include "store/sqlite_status.h"

#include <sqlite3.h>

#include <SQLiteCpp/Exception.h>
#include <string>

#include "store/store.h"

namespace mimi::store {

Status StatusFromCurrentException(std::string_view what) {
  std::string prefix = std::string(what) + ": ";
  try {
    throw;
  } catch (const SQLite::Exception& e) {
    int code = e.getErrorCode();
    int extended = e.getExtendedErrorCode();
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      return UnavailableError(prefix + "database busy: " + e.what());
    }
    // SQLiteCpp hands over the extended code as the code when extended
    // codes are on; the primary one is its low byte.
    if ((code & 0xff) == SQLITE_FULL) {
      return Status(StatusCode::kUnavailable, std::string(kStorageUnavailable),
                    prefix + "disk full: " + e.what());
    }
    if ((code & 0xff) == SQLITE_IOERR) {
      return Status(StatusCode::kUnavailable, std::string(kStorageUnavailable),
                    prefix + "I/O error " + std::to_string(extended) + ": " +
                        e.what());
    }
    if (code == SQLITE_CONSTRAINT) {
      if (extended == SQLITE_CONSTRAINT_PRIMARYKEY ||
          extended == SQLITE_CONSTRAINT_UNIQUE) {
        return Status(StatusCode::kAlreadyExists, prefix + e.what());
      }
      return Status(StatusCode::kFailedPrecondition, prefix + e.what());
    }
    return InternalError(prefix + "sqlite error " + std::to_string(extended) +
                         ": " + e.what());
  } catch (const std::exception& e) {
    return InternalError(prefix + e.what());
  } catch (...) {
    return InternalError(prefix + "unknown exception");
  }
}

}  // namespace mimi::store
