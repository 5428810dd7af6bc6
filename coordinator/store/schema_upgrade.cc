#include "store/schema_upgrade.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include <string>

#include "store/embedded_sql.h"
#include "store/sqlite_status.h"

namespace mimi::store {
namespace {

Status TooNew(int found) {
  return Status(StatusCode::kFailedPrecondition,
                "database schema version " + std::to_string(found) +
                    " is newer than this binary's " +
                    std::to_string(LatestSchemaVersion()) +
                    "; run a newer mimi-portability (the file was not "
                    "changed)");
}

}  // namespace

int LatestSchemaVersion() {
  const auto& steps = EmbeddedMigrations();
  return steps.empty() ? 0 : steps.back().version;
}

Result<int> ReadSchemaVersion(SQLite::Database& db) {
  return Guarded("reading the schema version", [&] {
    return Result<int>(db.execAndGet("PRAGMA user_version").getInt());
  });
}

Status UpgradeSchema(SQLite::Database& db, int target_version) {
  const auto& steps = EmbeddedMigrations();
  int latest = LatestSchemaVersion();
  if (target_version < 0) target_version = latest;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1) {
      return InternalError("embedded migration " + std::string(steps[i].name) +
                           " is out of sequence");
    }
  }
  MIMI_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(db));
  if (version > latest) return TooNew(version);
  while (version < target_version) {
    const EmbeddedMigration& step = steps[version];
    MIMI_RETURN_IF_ERROR(Guarded(
        "applying schema step " + std::string(step.name), [&]() -> Status {
          SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
          // Another process may have upgraded while we waited for the lock.
          int now_version = db.execAndGet("PRAGMA user_version").getInt();
          if (now_version > latest) return TooNew(now_version);
          if (now_version == version) {
            db.exec(std::string(step.sql));
            // PRAGMA takes no bound parameters; the value is our own integer.
            db.exec("PRAGMA user_version = " + std::to_string(step.version));
            tx.commit();
            version = step.version;
          } else {
            version = now_version;
          }
          return Status::Ok();
        }));
  }
  return Status::Ok();
}

}  // namespace mimi::store
