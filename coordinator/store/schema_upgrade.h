// Brings a database's schema to the version this binary writes by applying
// the embedded migrations/ steps that it lacks, in order.
//
// Each step runs with its PRAGMA user_version bump in one BEGIN IMMEDIATE
// transaction, and the version is read again inside that transaction, so
// processes that open the same old file at once apply every step exactly
// once. A database newer than the binary is refused (kFailedPrecondition)
// before anything is written. One Database per thread; these functions keep
// no state.
#ifndef MIMI_STORE_SCHEMA_UPGRADE_H_
#define MIMI_STORE_SCHEMA_UPGRADE_H_

#include "mimi_portability/status.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace mimi::store {

// The version of the last embedded step.
int LatestSchemaVersion();

// PRAGMA user_version; 0 for a new, empty database.
Result<int> ReadSchemaVersion(SQLite::Database& db);

// Applies the steps up to `target_version` (default: all). Tests use a lower
// target to build old databases.
Status UpgradeSchema(SQLite::Database& db, int target_version = -1);

}  // namespace mimi::store

#endif  // MIMI_STORE_SCHEMA_UPGRADE_H_
