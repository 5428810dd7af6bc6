// Brings a PostgreSQL database's schema to the version this binary writes
// by applying the embedded migrations/postgresql/ steps it lacks, in order:
// the same numbered history as SQLite's (schema_upgrade.h), in PostgreSQL's
// dialect, so that the upgrade path is the only path on both engines.
//
// The version lives in the one-row table mimi_schema_version (PostgreSQL
// has no PRAGMA user_version). Each step runs with its version bump in one
// transaction that first takes a transaction-level advisory lock and reads
// the version again, so instances that start against the same old database
// at once apply every step exactly once. A database newer than the binary
// is refused (kFailedPrecondition) before anything is written. Keeps no
// state; one connection per call.
#ifndef MIMI_STORE_PG_PG_SCHEMA_UPGRADE_H_
#define MIMI_STORE_PG_PG_SCHEMA_UPGRADE_H_

#include "mimi_portability/status.h"
#include "store/pg/pg_connection.h"

namespace mimi::store::pg {

// The version recorded in mimi_schema_version; 0 for a database without it.
Result<int> ReadPgSchemaVersion(PgConnection& c);

// Applies the steps up to `target_version` (default: all). Tests use a lower
// target to build old databases.
Status UpgradePgSchema(PgConnection& c, int target_version = -1);

}  // namespace mimi::store::pg

#endif  // MIMI_STORE_PG_PG_SCHEMA_UPGRADE_H_
