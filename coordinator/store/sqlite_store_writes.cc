// SqliteStore's writes: creations, transitions, leases, failures and
// retries. Each is one job of the SqliteWriter (sqlite_writer.h), run in its
// own savepoint; a job that returns an error changes nothing.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "store/lease_holder_rows.h"
#include "store/migration_rows.h"
#include "store/sqlite_blob.h"
#include "store/sqlite_statement_cache.h"
#include "store/sqlite_status.h"
#include "store/sqlite_store.h"
#include "store/transition_repeat.h"
#include "store/transition_steps.h"

namespace mimi::store {
namespace {

void BindOptional(SQLite::Statement& stmt, int index,
                  const std::optional<int64_t>& v) {
  if (v) {
    stmt.bind(index, static_cast<int64_t>(*v));
  } else {
    stmt.bind(index);
  }
}

}  // namespace

Status SqliteStore::CreateMigration(const MigrationRecord& record, Role role,
                                    std::optional<UnixMillis> next_attempt_at,
                                    std::optional<UnixMillis> nonce_expires_at,
                                    std::string_view detail, bool leased,
                                    const JoinedWrite* joined) {
  if (record.id.empty()) return InvalidArgumentError("migration id is empty");
  if (joined != nullptr && !joined->sqlite) {
    return InternalError("a joined write without a SQLite body");
  }
  leased = leased && record.lease_owner.has_value();
  if (leased && !record.lease_expires_at) {
    return InvalidArgumentError("a lease owner without an expiry");
  }
  MigrationState state = InitialState(role);
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("creating " + Describe(record.id, role), [&] {
      UnixMillis now = clock_.NowMillis();
      if (nonce_expires_at) {
        CachedStatement nonce(db,
                              "INSERT INTO issued_nonces (nonce, ciphersuite, "
                              "issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)");
        nonce->bind(1, record.id);
        nonce->bind(2, static_cast<int>(record.ciphersuite));
        nonce->bind(3, static_cast<int64_t>(now));
        nonce->bind(4, static_cast<int64_t>(*nonce_expires_at));
        nonce->exec();
      }
      CachedStatement ins(
          db,
          "INSERT INTO migrations (id, role, state, group_id, epoch, "
          "ciphersuite, source_domain, target_domain, next_attempt_at, "
          "created_at, updated_at, lease_owner, lease_expires_at, "
          "lease_holder) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, "
          "?13)");
      ins->bind(1, record.id);
      ins->bind(2, std::string(RoleName(role)));
      ins->bind(3, std::string(StateName(state)));
      BindBlob(*ins, 4, record.group_id);
      ins->bind(5, static_cast<int64_t>(record.epoch));
      ins->bind(6, static_cast<int>(record.ciphersuite));
      ins->bind(7, record.source_domain);
      ins->bind(8, record.target_domain);
      BindOptional(*ins, 9, next_attempt_at);
      ins->bind(10, static_cast<int64_t>(now));
      if (leased) {
        ins->bind(11, *record.lease_owner);
        ins->bind(12, static_cast<int64_t>(*record.lease_expires_at));
        ins->bind(13, std::string(LeaseHolderOf(*record.lease_owner)));
      } else {
        ins->bind(11);
        ins->bind(12);
        ins->bind(13);
      }
      ins->exec();
      const StoredMessage messages[] = {
          {MessageKind::kRequest, record.request},
          {MessageKind::kResponse, record.response},
          {MessageKind::kInitRequest, record.init_request},
          {MessageKind::kCommit, record.commit}};
      InsertMessages(db, record.id, role, messages);
      InsertEvent(db, record.id, role, std::nullopt, state, now, detail);
      // In the job's savepoint: an error rolls the row back with it.
      if (joined != nullptr) return joined->sqlite(db);
      return Status::Ok();
    });
  });
}

Status SqliteStore::CreateSourceMigration(const MigrationRecord& record,
                                          std::string_view detail,
                                          const JoinedWrite* joined) {
  Status s = CreateMigration(record, Role::kSource, clock_.NowMillis(),
                             std::nullopt, detail, /*leased=*/true, joined);
  if (s.ok()) LogCreated(record.id, Role::kSource, detail);
  return s;
}

Status SqliteStore::CreateTargetMigration(const MigrationRecord& record,
                                          UnixMillis expires_at,
                                          std::string_view detail) {
  Status s = CreateMigration(record, Role::kTarget, expires_at, expires_at,
                             detail, /*leased=*/false);
  if (s.ok()) LogCreated(record.id, Role::kTarget, detail);
  return s;
}

Result<TransitionOutcome> SqliteStore::TransitionSteps(
    std::string_view id, Role role, std::span<const Move> moves) {
  MIMI_ASSIGN_OR_RETURN(std::vector<const TransitionRule*> rules,
                        CheckMoves(role, moves));
  for (const Move& m : moves) {
    if (m.joined != nullptr && !m.joined->sqlite) {
      return InternalError("a joined write without a SQLite body");
    }
  }
  MIMI_RETURN_IF_ERROR(CheckWritable());
  std::vector<bool> applied(moves.size(), false);
  Status s = writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded(
        DescribeMoves(moves) + " of " + Describe(id, role), [&]() -> Status {
          for (size_t i = 0; i < moves.size(); ++i) {
            const Move& m = moves[i];
            MIMI_ASSIGN_OR_RETURN(
                TransitionOutcome outcome,
                TransitionJob(db, id, role, m.from, m.to, *rules[i], *m.data));
            // Assigned, not accumulated: the writer may run a job once only,
            // but a rolled-back savepoint must leave no trace here either.
            applied[i] = outcome == TransitionOutcome::kApplied;
            if (applied[i] && m.joined != nullptr) {
              MIMI_RETURN_IF_ERROR(m.joined->sqlite(db));
            }
          }
          return Status::Ok();
        });
  });
  if (!s.ok()) return s;
  return LogMoves(id, role, moves, applied);
}

Result<TransitionOutcome> SqliteStore::TransitionJob(
    SQLite::Database& db, std::string_view id, Role role, MigrationState from,
    MigrationState to, const TransitionRule& rule, const TransitionData& data) {
  UnixMillis now = clock_.NowMillis();
  std::optional<UnixMillis> next = data.next_attempt_at;
  if (!next && !IsTerminal(role, to)) next = now;

  // ?1..?6 fixed, ?7 the content hash if given.
  std::string sql =
      "UPDATE migrations SET state = ?1, updated_at = ?2, "
      "next_attempt_at = ?3, attempt_count = 0, last_error = NULL, "
      "stalled_since = NULL";
  if (data.content_hash) sql += ", content_hash = ?7";
  // A row in a terminal state is never driven again: the transition that
  // puts it there ends its lease, whoever holds it, so that the driver that
  // made the step need not spend a write of its own on the release
  // (MigrationLease::EndedByTransition).
  if (IsTerminal(role, to)) {
    sql += ", lease_owner = NULL, lease_expires_at = NULL, lease_holder = NULL";
  }
  sql += " WHERE id = ?4 AND role = ?5 AND state = ?6";
  CachedStatement upd(db, sql);
  upd->bind(1, std::string(StateName(to)));
  upd->bind(2, static_cast<int64_t>(now));
  BindOptional(*upd, 3, next);
  upd->bind(4, std::string(id));
  upd->bind(5, std::string(RoleName(role)));
  upd->bind(6, std::string(StateName(from)));
  if (data.content_hash) BindBlobOrNull(*upd, 7, *data.content_hash);

  if (upd->exec() == 1) {
    // The row moved from `from`, which no transition re-enters with the
    // same data, so each message is inserted exactly once.
    std::vector<StoredMessage> messages;
    for (const DataMessage& m : kDataMessages) {
      if (data.*m.given) messages.push_back({m.kind, *(data.*m.given)});
    }
    InsertMessages(db, id, role, messages);
    InsertEvent(db, id, role, from, to, now, data.detail);
    if (rule.writes_tombstone) {
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
      // A group that came back and left again replaces its old tombstone.
      CachedStatement tomb(
          db,
          "INSERT INTO tombstones (group_id, target_domain, migration_id, "
          "moved_at, confirmation) VALUES (?1, ?2, ?3, ?4, ?5) "
          "ON CONFLICT (group_id) DO UPDATE SET "
          "target_domain = excluded.target_domain, "
          "migration_id = excluded.migration_id, "
          "moved_at = excluded.moved_at, "
          "confirmation = excluded.confirmation");
      BindBlob(*tomb, 1, row.group_id);
      tomb->bind(2, row.target_domain);
      tomb->bind(3, row.id);
      tomb->bind(4, static_cast<int64_t>(now));
      // The rule requires the confirmation (CheckTransition checked), and
      // it is bound without a copy: `data` outlives the statement.
      BindBlob(*tomb, 5, *data.confirmation);
      tomb->exec();
    }
    return TransitionOutcome::kApplied;
  }

  // Nothing matched: no such row, a repeat, or a stale `from`. The read-only
  // checks below change nothing, and the writer rolls the job's savepoint
  // back whenever it returns an error.
  MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
  CachedStatement seen(db,
                       "SELECT COUNT(*) FROM migration_events "
                       "WHERE migration_id = ?1 AND role = ?2 "
                       "AND from_state = ?3 AND to_state = ?4");
  seen->bind(1, std::string(id));
  seen->bind(2, std::string(RoleName(role)));
  seen->bind(3, std::string(StateName(from)));
  seen->bind(4, std::string(StateName(to)));
  seen->executeStep();
  std::string what = std::string(StateName(from)) + " -> " +
                     std::string(StateName(to)) + " of " + Describe(id, role);
  return UnmatchedTransition(what, row, seen->getColumn(0).getInt64() > 0, data,
                             [&](MessageKind kind) -> Result<Bytes> {
                               return ReadMessage(db, id, role, kind);
                             });
}

Status SqliteStore::AcquireLease(std::string_view id, Role role,
                                 std::string_view owner, int64_t duration_ms) {
  if (owner.empty()) return InvalidArgumentError("lease owner is empty");
  MIMI_RETURN_IF_ERROR(CheckWritable());
  const std::string holder(LeaseHolderOf(owner));
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("leasing " + Describe(id, role), [&]() -> Status {
      UnixMillis now = clock_.NowMillis();
      // A superseded process must not start driving again: a later
      // incarnation of its instance owns its leases now (docs/protocol.md §4
      // "Lease ownership"). A holder whose heartbeat is only late may go
      // on: its own process knows it is alive.
      if (HolderHasEnded(db, holder)) {
        return Status(StatusCode::kFailedPrecondition,
                      "lease holder " + holder +
                          " has ended (a later incarnation of its instance "
                          "started, or it stopped); it takes no lease on " +
                          Describe(id, role));
      }
      CachedStatement upd(
          db,
          "UPDATE migrations SET lease_owner = ?1, lease_expires_at = ?2, "
          "lease_holder = ?6 "
          "WHERE id = ?3 AND role = ?4 AND (lease_owner IS NULL OR "
          "lease_expires_at <= ?5 OR lease_owner = ?1)");
      upd->bind(1, std::string(owner));
      upd->bind(2, static_cast<int64_t>(now + duration_ms));
      upd->bind(3, std::string(id));
      upd->bind(4, std::string(RoleName(role)));
      upd->bind(5, static_cast<int64_t>(now));
      upd->bind(6, holder);
      if (upd->exec() == 1) {
        return Status::Ok();
      }
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
      return Status(StatusCode::kFailedPrecondition,
                    Describe(id, role) + " is leased by " +
                        row.lease_owner.value_or("?") + " until " +
                        std::to_string(row.lease_expires_at.value_or(0)));
    });
  });
}

Status SqliteStore::ReleaseLease(std::string_view id, Role role,
                                 std::string_view owner) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("releasing " + Describe(id, role), [&]() -> Status {
      CachedStatement upd(db,
                          "UPDATE migrations SET lease_owner = NULL, "
                          "lease_expires_at = NULL, lease_holder = NULL "
                          "WHERE id = ?1 AND role = ?2 AND lease_owner = ?3");
      upd->bind(1, std::string(id));
      upd->bind(2, std::string(RoleName(role)));
      upd->bind(3, std::string(owner));
      if (upd->exec() == 0) {
        // Tell "no such row" apart from "not ours", which is fine.
        MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
        (void)row;
      }
      return Status::Ok();
    });
  });
}

Status SqliteStore::RecordFailure(std::string_view id, Role role,
                                  std::string_view error,
                                  UnixMillis next_attempt_at, bool stalled) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded(
        "recording a failure of " + Describe(id, role), [&]() -> Status {
          UnixMillis now = clock_.NowMillis();
          // A stall keeps its first time, so operators see how long it has
          // lasted.
          CachedStatement upd(
              db,
              "UPDATE migrations SET attempt_count = attempt_count + 1, "
              "last_error = ?1, next_attempt_at = ?2, updated_at = ?3, "
              "stalled_since = CASE WHEN ?4 = 0 THEN NULL "
              "ELSE COALESCE(stalled_since, ?3) END "
              "WHERE id = ?5 AND role = ?6");
          upd->bind(1, std::string(error));
          upd->bind(2, static_cast<int64_t>(next_attempt_at));
          upd->bind(3, static_cast<int64_t>(now));
          upd->bind(4, stalled ? 1 : 0);
          upd->bind(5, std::string(id));
          upd->bind(6, std::string(RoleName(role)));
          if (upd->exec() == 0)
            return NotFoundError("no " + Describe(id, role));
          return Status::Ok();
        });
  });
}

Status SqliteStore::ScheduleNow(std::string_view id, Role role) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("scheduling " + Describe(id, role), [&]() -> Status {
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
      if (IsTerminal(role, row.state)) {
        return Status(StatusCode::kFailedPrecondition,
                      Describe(id, role) + " is " +
                          std::string(StateName(row.state)) +
                          ", which has no next step to retry");
      }
      UnixMillis now = clock_.NowMillis();
      // The state in the WHERE makes this a compare-and-set against a
      // transition that lands between the read above and here (another
      // process: the mutex only covers this one).
      CachedStatement upd(
          db,
          "UPDATE migrations SET next_attempt_at = ?1, updated_at = ?1, "
          "attempt_count = 0, stalled_since = NULL "
          "WHERE id = ?2 AND role = ?3 AND state = ?4");
      upd->bind(1, static_cast<int64_t>(now));
      upd->bind(2, std::string(id));
      upd->bind(3, std::string(RoleName(role)));
      upd->bind(4, std::string(StateName(row.state)));
      if (upd->exec() != 1) {
        return Status(StatusCode::kFailedPrecondition,
                      Describe(id, role) + " changed state meanwhile");
      }
      return Status::Ok();
    });
  });
}

}  // namespace mimi::store
