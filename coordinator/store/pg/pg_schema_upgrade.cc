#include "store/pg/pg_schema_upgrade.h"

#include <string>

#include "store/embedded_sql.h"
#include "store/schema_upgrade.h"

namespace mimi::store::pg {
namespace {

// The advisory lock every upgrading instance takes ("mimi" in ASCII), so
// that concurrent upgrades of one database run one after the other.
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(1835626857)";

Status TooNew(int found) {
  return Status(StatusCode::kFailedPrecondition,
                "database schema version " + std::to_string(found) +
                    " is newer than this binary's " +
                    std::to_string(LatestSchemaVersion()) +
                    "; run a newer mimi-portability (the database was not "
                    "changed)");
}

}  // namespace

Result<int> ReadPgSchemaVersion(PgConnection& c) {
  MIMI_ASSIGN_OR_RETURN(
      PgResult r,
      c.Exec("reading the schema version",
             "SELECT to_regclass('mimi_schema_version') IS NOT NULL"));
  if (r.Text(0, 0) != "t") return 0;
  MIMI_ASSIGN_OR_RETURN(PgResult v,
                        c.Exec("reading the schema version",
                               "SELECT version FROM mimi_schema_version"));
  return v.rows() == 0 ? 0 : static_cast<int>(std::stoll(v.Text(0, 0)));
}

Status UpgradePgSchema(PgConnection& c, int target_version) {
  const auto& steps = EmbeddedPgMigrations();
  const auto& sqlite_steps = EmbeddedMigrations();
  const int latest = LatestSchemaVersion();
  if (target_version < 0) target_version = latest;
  if (steps.size() != sqlite_steps.size()) {
    return InternalError("the postgresql schema steps differ from sqlite's");
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].version != static_cast<int>(i) + 1 ||
        steps[i].name != sqlite_steps[i].name) {
      return InternalError("embedded postgresql migration " +
                           std::string(steps[i].name) + " is out of sequence");
    }
  }
  MIMI_ASSIGN_OR_RETURN(int version, ReadPgSchemaVersion(c));
  if (version > latest) return TooNew(version);
  while (version < target_version) {
    const EmbeddedMigration& step = steps[version];
    const std::string what = "applying schema step " + std::string(step.name);
    MIMI_ASSIGN_OR_RETURN(PgTransaction tx, PgTransaction::Begin(c));
    MIMI_ASSIGN_OR_RETURN(PgResult locked, c.Exec(what, kLock));
    (void)locked;
    MIMI_ASSIGN_OR_RETURN(
        PgResult created,
        c.Exec(what,
               "CREATE TABLE IF NOT EXISTS mimi_schema_version ("
               "one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), "
               "version BIGINT NOT NULL)"));
    (void)created;
    // Another instance may have upgraded while we waited for the lock.
    MIMI_ASSIGN_OR_RETURN(int now_version, ReadPgSchemaVersion(c));
    if (now_version > latest) return TooNew(now_version);
    if (now_version != version) {
      version = now_version;
      MIMI_RETURN_IF_ERROR(tx.Commit());
      continue;
    }
    MIMI_ASSIGN_OR_RETURN(PgResult applied, c.Exec(what, std::string(step.sql)));
    (void)applied;
    // The version is our own integer, not input.
    MIMI_ASSIGN_OR_RETURN(
        PgResult bumped,
        c.Exec(what,
               "INSERT INTO mimi_schema_version (one, version) VALUES (TRUE, " +
                   std::to_string(step.version) +
                   ") ON CONFLICT (one) DO UPDATE SET version = "
                   "EXCLUDED.version"));
    (void)bumped;
    MIMI_RETURN_IF_ERROR(tx.Commit());
    version = step.version;
  }
  return Status::Ok();
}

}  // namespace mimi::store::pg
