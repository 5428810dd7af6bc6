// SqliteStore's lease holders (docs/protocol.md §4 "Lease ownership"): the
// registration of a daemon start, its heartbeat and end, the take-over of a
// dead holder's leases, and the list operators see. The writes are jobs of
// the SqliteWriter like every other write; the list reads on the store's
// read connection.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>
#include <vector>

#include "store/lease_holder_rows.h"
#include "store/migration_rows.h"
#include "store/sqlite_statement_cache.h"
#include "store/sqlite_status.h"
#include "store/sqlite_store.h"

namespace mimi::store {
namespace {

constexpr const char* kHolderColumns =
    "holder_id, instance_id, incarnation, host, pid, started_at, "
    "heartbeat_at, alive_until, ended_at";

// "Dead at ?now": the one definition every statement below uses.
constexpr const char* kDeadAt =
    "(ended_at IS NOT NULL OR alive_until <= ?1)";

// The unexpired leases of dead holders. Few holders, each with few
// leases: the holder index finds them without reading the migrations
// table. An expired lease is free already and not counted.
// Holders first, then each one's leased rows through the partial index
// migrations_by_lease_holder: CROSS JOIN fixes that order. Left to choose,
// SQLite walked every row of migrations in key order (to spare the sort),
// and every recovery scan ran this query: with a few thousand finished
// rows it was 4% of the throughput benchmark's CPU (docs/performance.md).
constexpr const char* kDeadLeases =
    "SELECT m.id, m.role, m.lease_owner, m.lease_holder, m.lease_expires_at "
    "FROM lease_holders h CROSS JOIN migrations m "
    "WHERE m.lease_holder = h.holder_id AND m.lease_holder IS NOT NULL "
    "AND (h.ended_at IS NOT NULL OR h.alive_until <= ?1) "
    "AND h.holder_id <> ?2 AND m.lease_expires_at > ?1 ORDER BY m.id, m.role";

// Forgets dead holders nothing points at any more; the latest incarnation
// of each instance stays, so that incarnation numbers (and holder ids) are
// never reused.
void ForgetDeadHolders(SQLite::Database& db, int64_t now) {
  CachedStatement forget(
      db, std::string("DELETE FROM lease_holders WHERE ") + kDeadAt +
              " AND NOT EXISTS (SELECT 1 FROM migrations m WHERE "
              "m.lease_holder = lease_holders.holder_id) "
              "AND incarnation < (SELECT MAX(h2.incarnation) FROM "
              "lease_holders h2 WHERE h2.instance_id = "
              "lease_holders.instance_id)");
  forget->bind(1, now);
  forget->exec();
}

LeaseHolder RowToHolder(SQLite::Statement& q) {
  LeaseHolder h;
  h.holder_id = q.getColumn(0).getString();
  h.instance_id = q.getColumn(1).getString();
  h.incarnation = q.getColumn(2).getInt64();
  h.host = q.getColumn(3).getString();
  h.pid = q.getColumn(4).getInt64();
  h.started_at = q.getColumn(5).getInt64();
  h.heartbeat_at = q.getColumn(6).getInt64();
  h.alive_until = q.getColumn(7).getInt64();
  if (!q.getColumn(8).isNull()) h.ended_at = q.getColumn(8).getInt64();
  return h;
}

// '/' and '#' separate the parts of a lease owner; the rest is the
// operator's (the daemon validates a configured id further).
}  // namespace

bool HolderHasEnded(SQLite::Database& db, std::string_view holder) {
  const size_t slash = holder.rfind('/');
  const std::string_view n =
      slash == std::string_view::npos ? "" : holder.substr(slash + 1);
  if (n.empty() || n.size() > 18 ||  // 18 digits fit an int64
      n.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  CachedStatement q(db,
                    "SELECT 1 FROM lease_holders WHERE (instance_id = ?1 "
                    "AND incarnation > ?2) OR (holder_id = ?3 AND "
                    "ended_at IS NOT NULL) LIMIT 1");
  q->bind(1, std::string(holder.substr(0, slash)));
  q->bind(2, static_cast<int64_t>(std::stoll(std::string(n))));
  q->bind(3, std::string(holder));
  return q->executeStep();
}

Result<LeaseHolder> SqliteStore::RegisterLeaseHolder(
    std::string_view instance_id, std::string_view host, int64_t pid,
    int64_t alive_ms) {
  MIMI_RETURN_IF_ERROR(CheckInstanceId(instance_id));
  if (alive_ms <= 0) {
    return InvalidArgumentError("lease holder: alive time must be positive");
  }
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Result<LeaseHolder> {
    return Guarded("registering a lease holder for instance " +
                       std::string(instance_id),
                   [&]() -> Result<LeaseHolder> {
      const UnixMillis now = clock_.NowMillis();
      // One instance runs one process at a time, so every earlier
      // incarnation is dead, whatever its heartbeat says.
      CachedStatement end(db,
                          "UPDATE lease_holders SET ended_at = ?1 "
                          "WHERE instance_id = ?2 AND ended_at IS NULL");
      end->bind(1, static_cast<int64_t>(now));
      end->bind(2, std::string(instance_id));
      end->exec();
      CachedStatement last(db,
                           "SELECT COALESCE(MAX(incarnation), 0) "
                           "FROM lease_holders WHERE instance_id = ?1");
      last->bind(1, std::string(instance_id));
      last->executeStep();
      LeaseHolder h;
      h.instance_id = std::string(instance_id);
      h.incarnation = last->getColumn(0).getInt64() + 1;
      h.holder_id = h.instance_id + "/" + std::to_string(h.incarnation);
      h.host = std::string(host);
      h.pid = pid;
      h.started_at = now;
      h.heartbeat_at = now;
      h.alive_until = now + alive_ms;
      CachedStatement ins(
          db, std::string("INSERT INTO lease_holders (") + kHolderColumns +
                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL)");
      ins->bind(1, h.holder_id);
      ins->bind(2, h.instance_id);
      ins->bind(3, h.incarnation);
      ins->bind(4, h.host);
      ins->bind(5, h.pid);
      ins->bind(6, static_cast<int64_t>(h.started_at));
      ins->bind(7, static_cast<int64_t>(h.heartbeat_at));
      ins->bind(8, static_cast<int64_t>(h.alive_until));
      ins->exec();
      // Restarts do not pile up holders.
      ForgetDeadHolders(db, now);
      return h;
    });
  });
}

Status SqliteStore::HeartbeatLeaseHolder(std::string_view holder_id,
                                         int64_t alive_ms) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("heartbeat of lease holder " + std::string(holder_id),
                   [&]() -> Status {
      const UnixMillis now = clock_.NowMillis();
      CachedStatement upd(db,
                          "UPDATE lease_holders SET heartbeat_at = ?1, "
                          "alive_until = ?2 "
                          "WHERE holder_id = ?3 AND ended_at IS NULL");
      upd->bind(1, static_cast<int64_t>(now));
      upd->bind(2, static_cast<int64_t>(now + alive_ms));
      upd->bind(3, std::string(holder_id));
      if (upd->exec() == 1) return Status::Ok();
      if (HolderHasEnded(db, holder_id)) {
        return Status(StatusCode::kFailedPrecondition,
                      "lease holder " + std::string(holder_id) +
                          " has ended (a later incarnation of its instance "
                          "started, or it stopped)");
      }
      return NotFoundError("no lease holder " + std::string(holder_id));
    });
  });
}

Status SqliteStore::EndLeaseHolder(std::string_view holder_id) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded(
        "ending lease holder " + std::string(holder_id), [&]() -> Status {
          CachedStatement upd(db,
                              "UPDATE lease_holders SET ended_at = ?1 "
                              "WHERE holder_id = ?2 AND ended_at IS NULL");
          upd->bind(1, static_cast<int64_t>(clock_.NowMillis()));
          upd->bind(2, std::string(holder_id));
          upd->exec();
          return Status::Ok();
        });
  });
}

Result<std::vector<ReclaimedLease>> SqliteStore::ReclaimDeadLeases(
    std::string_view self) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  // Every scan asks; almost always there is nothing to take over, and then
  // a read on the store's own connection answers without a write job.
  {
    MutexLock lock(read_mu_);
    SQLite::Database& reader = *reader_;
    MIMI_ASSIGN_OR_RETURN(
        bool any, Guarded("looking for the leases of dead holders",
                          [&]() -> Result<bool> {
                            CachedStatement q(reader, kDeadLeases);
                            q->bind(1,
                                    static_cast<int64_t>(clock_.NowMillis()));
                            q->bind(2, std::string(self));
                            return q->executeStep();
                          }));
    if (!any) return std::vector<ReclaimedLease>{};
  }
  return writer_->Write(
      [&](SQLite::Database& db) -> Result<std::vector<ReclaimedLease>> {
        return Guarded("taking over the leases of dead holders",
                       [&]() -> Result<std::vector<ReclaimedLease>> {
          // Read again in the write transaction: the decision and the
          // update see one state.
          const int64_t now = clock_.NowMillis();
          CachedStatement q(db, kDeadLeases);
          q->bind(1, now);
          q->bind(2, std::string(self));
          std::vector<ReclaimedLease> out;
          while (q->executeStep()) {
            ReclaimedLease r;
            r.id = q->getColumn(0).getString();
            MIMI_ASSIGN_OR_RETURN(r.role,
                                  ParseRole(q->getColumn(1).getString()));
            r.owner = q->getColumn(2).getString();
            r.holder_id = q->getColumn(3).getString();
            r.expires_at = q->getColumn(4).getInt64();
            out.push_back(std::move(r));
          }
          // The owner in the WHERE: only the very lease read above.
          CachedStatement free(db,
                               "UPDATE migrations SET lease_owner = NULL, "
                               "lease_expires_at = NULL, lease_holder = NULL "
                               "WHERE id = ?1 AND role = ?2 AND "
                               "lease_owner = ?3");
          for (const ReclaimedLease& r : out) {
            free->bind(1, r.id);
            free->bind(2, std::string(RoleName(r.role)));
            free->bind(3, r.owner);
            free->exec();
            free->reset();
          }
          ForgetDeadHolders(db, now);
          return out;
        });
      });
}

Result<std::vector<LeaseHolder>> SqliteStore::ListLeaseHolders() {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded(
      "listing lease holders", [&]() -> Result<std::vector<LeaseHolder>> {
        CachedStatement q(reader, std::string("SELECT ") + kHolderColumns +
                                      " FROM lease_holders "
                                      "ORDER BY instance_id, incarnation");
        std::vector<LeaseHolder> out;
        while (q->executeStep()) out.push_back(RowToHolder(*q));
        return out;
      });
}

}  // namespace mimi::store
