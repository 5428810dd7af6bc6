// PgStore's writes: creations, transitions, leases, lease holders, failures
// and retries. Each is one transaction (PgPool::Transact); one that returns
// an error is rolled back and changes nothing.
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "store/pg/pg_rows.h"
#include "store/pg/pg_store.h"
#include "store/transition_repeat.h"
#include "store/transition_steps.h"

namespace mimi::store::pg {
namespace {

constexpr PgStatement kInsertNonce = {
    "mimi_insert_nonce",
    "INSERT INTO issued_nonces (nonce, ciphersuite, issued_at, expires_at) "
    "VALUES ($1, $2, $3, $4)"};
constexpr PgStatement kInsertMigration = {
    "mimi_insert_migration",
    "INSERT INTO migrations (id, role, state, group_id, epoch, ciphersuite, "
    "source_domain, target_domain, next_attempt_at, created_at, updated_at, "
    "lease_owner, lease_expires_at, lease_holder) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13)"};
// The last parameter (boolean) says the row enters a terminal state, which
// ends its lease (see SqliteStore::TransitionJob).
#define MIMI_PG_END_LEASE(n)                           \
  "lease_owner = CASE WHEN $" n                        \
  "::boolean THEN NULL ELSE lease_owner "              \
  "END, lease_expires_at = CASE WHEN $" n              \
  "::boolean THEN NULL ELSE "                          \
  "lease_expires_at END, lease_holder = CASE WHEN $" n \
  "::boolean THEN NULL ELSE lease_holder END "
constexpr PgStatement kTransition = {
    "mimi_transition",
    "UPDATE migrations SET state = $1, updated_at = $2, next_attempt_at = $3, "
    "attempt_count = 0, last_error = NULL, stalled_since = "
    "NULL, " MIMI_PG_END_LEASE(
        "7") "WHERE id = $4 AND role = $5 AND state = $6"};
constexpr PgStatement kTransitionWithHash = {
    "mimi_transition_with_hash",
    "UPDATE migrations SET state = $1, updated_at = $2, next_attempt_at = $3, "
    "attempt_count = 0, last_error = NULL, stalled_since = NULL, "
    "content_hash = $7, " MIMI_PG_END_LEASE(
        "8") "WHERE id = $4 AND role = $5 AND state = $6"};
#undef MIMI_PG_END_LEASE
// A group that came back and left again replaces its old tombstone.
constexpr PgStatement kWriteTombstone = {
    "mimi_write_tombstone",
    "INSERT INTO tombstones (group_id, target_domain, migration_id, moved_at, "
    "confirmation) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (group_id) DO "
    "UPDATE SET target_domain = EXCLUDED.target_domain, migration_id = "
    "EXCLUDED.migration_id, moved_at = EXCLUDED.moved_at, confirmation = "
    "EXCLUDED.confirmation"};
constexpr PgStatement kSeen = {
    "mimi_transition_seen",
    "SELECT COUNT(*) FROM migration_events WHERE migration_id = $1 AND "
    "role = $2 AND from_state = $3 AND to_state = $4"};
// The row's lock, taken without waiting: a row another transaction is
// writing (another instance's lease take, claim or transition) is busy now,
// and waiting for it would only tie up this connection for an answer that is
// "busy" anyway once that transaction commits.
constexpr PgStatement kLockRowNowait = {
    "mimi_lock_row_skip_locked",
    "SELECT 1 FROM migrations WHERE id = $1 AND role = $2 "
    "FOR UPDATE SKIP LOCKED"};
// Free, lapsed, the caller's own, or claimed by the caller's holder for
// recovery ($7, ClaimOwnerOf): the driver a claim was made for takes it over.
constexpr PgStatement kAcquire = {
    "mimi_acquire_lease",
    "UPDATE migrations SET lease_owner = $1, lease_expires_at = $2, "
    "lease_holder = $6 WHERE id = $3 AND role = $4 AND (lease_owner IS NULL "
    "OR lease_expires_at <= $5 OR lease_owner = $1 OR lease_owner = $7)"};
// Recovery's claim (Store::ClaimDueKeys): the page ListDueKeys would
// return, leased to the claimant in the same statement. SKIP LOCKED: two
// instances claiming at once each get rows the other has not locked, and
// neither waits for the other's.
constexpr PgStatement kClaimDue = {
    "mimi_claim_due",
    "WITH due AS (SELECT id, role FROM migrations "
    "WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 "
    "AND (lease_owner IS NULL OR lease_expires_at <= $1) "
    "AND ($3::bigint IS NULL OR next_attempt_at > $3 OR "
    "(next_attempt_at = $3 AND (id > $4::text OR (id = $4::text AND "
    "role > $5::text)))) "
    "ORDER BY next_attempt_at, id, role LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "UPDATE migrations m SET lease_owner = $6, lease_expires_at = $7, "
    "lease_holder = $8 FROM due WHERE m.id = due.id AND m.role = due.role "
    "RETURNING m.next_attempt_at, m.id, m.role"};
constexpr PgStatement kRelease = {
    "mimi_release_lease",
    "UPDATE migrations SET lease_owner = NULL, lease_expires_at = NULL, "
    "lease_holder = NULL WHERE id = $1 AND role = $2 AND lease_owner = $3"};
// A stall keeps its first time, so operators see how long it has lasted.
constexpr PgStatement kFailure = {
    "mimi_record_failure",
    "UPDATE migrations SET attempt_count = attempt_count + 1, last_error = $1, "
    "next_attempt_at = $2, updated_at = $3, stalled_since = CASE WHEN "
    "$4::boolean THEN COALESCE(stalled_since, $3) ELSE NULL END "
    "WHERE id = $5 AND role = $6"};
constexpr PgStatement kScheduleNow = {
    "mimi_schedule_now",
    "UPDATE migrations SET next_attempt_at = $1, updated_at = $1, "
    "attempt_count = 0, stalled_since = NULL "
    "WHERE id = $2 AND role = $3 AND state = $4"};

constexpr PgStatement kHolderLock = {
    "mimi_holder_lock", "SELECT pg_advisory_xact_lock(hashtext($1))"};
constexpr PgStatement kEndEarlier = {
    "mimi_end_earlier_holders",
    "UPDATE lease_holders SET ended_at = $1 "
    "WHERE instance_id = $2 AND ended_at IS NULL"};
constexpr PgStatement kLastIncarnation = {
    "mimi_last_incarnation",
    "SELECT COALESCE(MAX(incarnation), 0) FROM lease_holders "
    "WHERE instance_id = $1"};
constexpr PgStatement kInsertHolder = {
    "mimi_insert_holder",
    "INSERT INTO lease_holders (holder_id, instance_id, incarnation, host, "
    "pid, started_at, heartbeat_at, alive_until, ended_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)"};
// Dead holders nothing points at any more; the latest incarnation of each
// instance stays, so that holder ids are never reused.
constexpr PgStatement kForgetDead = {
    "mimi_forget_dead_holders",
    "DELETE FROM lease_holders h WHERE (h.ended_at IS NOT NULL OR "
    "h.alive_until <= $1) AND NOT EXISTS (SELECT 1 FROM migrations m WHERE "
    "m.lease_holder = h.holder_id) AND h.incarnation < (SELECT "
    "MAX(h2.incarnation) FROM lease_holders h2 WHERE h2.instance_id = "
    "h.instance_id)"};
constexpr PgStatement kHeartbeat = {
    "mimi_heartbeat",
    "UPDATE lease_holders SET heartbeat_at = $1, alive_until = $2 "
    "WHERE holder_id = $3 AND ended_at IS NULL"};
constexpr PgStatement kEndHolder = {
    "mimi_end_holder",
    "UPDATE lease_holders SET ended_at = $1 "
    "WHERE holder_id = $2 AND ended_at IS NULL"};
// The unexpired leases of dead holders, locked until the take-over commits
// so that two instances reclaiming at once report each lease once; one
// skips what the other has locked instead of waiting for it.
constexpr PgStatement kDeadLeases = {
    "mimi_dead_leases",
    "SELECT m.id, m.role, m.lease_owner, m.lease_holder, m.lease_expires_at "
    "FROM lease_holders h JOIN migrations m ON m.lease_holder = h.holder_id "
    "WHERE (h.ended_at IS NOT NULL OR h.alive_until <= $1) "
    "AND h.holder_id <> $2 AND m.lease_expires_at > $1 ORDER BY m.id, m.role "
    "FOR UPDATE OF m SKIP LOCKED"};
constexpr PgStatement kListHolders = {
    "mimi_list_holders",
    "SELECT holder_id, instance_id, incarnation, host, pid, started_at, "
    "heartbeat_at, alive_until, ended_at FROM lease_holders "
    "ORDER BY instance_id, incarnation"};

Status Done(const Result<PgResult>& r) {
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

Status PgStore::CreateMigration(const MigrationRecord& record, Role role,
                                std::optional<UnixMillis> next_attempt_at,
                                std::optional<UnixMillis> nonce_expires_at,
                                std::string_view detail, bool leased,
                                const JoinedWrite* joined) {
  if (record.id.empty()) return InvalidArgumentError("migration id is empty");
  if (joined != nullptr && !joined->postgresql) {
    return InternalError("a joined write without a PostgreSQL body");
  }
  leased = leased && record.lease_owner.has_value();
  if (leased && !record.lease_expires_at) {
    return InvalidArgumentError("a lease owner without an expiry");
  }
  const MigrationState state = InitialState(role);
  const std::string what = "creating " + Describe(record.id, role);
  return pool_->Transact(what, [&](PgConnection& c) -> Status {
    const UnixMillis now = clock_.NowMillis();
    if (nonce_expires_at) {
      PgParams n;
      n.Text(record.id).Int(record.ciphersuite).Int(now).Int(*nonce_expires_at);
      MIMI_RETURN_IF_ERROR(Done(c.Run(what, kInsertNonce, n)));
    }
    PgParams p;
    p.Text(record.id)
        .Text(RoleName(role))
        .Text(StateName(state))
        .Blob(record.group_id)
        .Int(static_cast<int64_t>(record.epoch))
        .Int(record.ciphersuite)
        .Text(record.source_domain)
        .Text(record.target_domain)
        .OptionalInt(next_attempt_at)
        .Int(now);
    if (leased) {
      p.Text(*record.lease_owner)
          .Int(*record.lease_expires_at)
          .Text(LeaseHolderOf(*record.lease_owner));
    } else {
      p.Null().Null().Null();
    }
    MIMI_RETURN_IF_ERROR(Done(c.Run(what, kInsertMigration, p)));
    const StoredMessage messages[] = {
        {MessageKind::kRequest, record.request},
        {MessageKind::kResponse, record.response},
        {MessageKind::kInitRequest, record.init_request},
        {MessageKind::kCommit, record.commit}};
    MIMI_RETURN_IF_ERROR(InsertMessages(c, record.id, role, messages));
    MIMI_RETURN_IF_ERROR(
        InsertEvent(c, record.id, role, std::nullopt, state, now, detail));
    // In the same transaction: an error rolls the row back with it.
    if (joined != nullptr) return joined->postgresql(c);
    return Status::Ok();
  });
}

Status PgStore::CreateSourceMigration(const MigrationRecord& record,
                                      std::string_view detail,
                                      const JoinedWrite* joined) {
  Status s = CreateMigration(record, Role::kSource, clock_.NowMillis(),
                             std::nullopt, detail, /*leased=*/true, joined);
  if (s.ok()) LogCreated(record.id, Role::kSource, detail);
  return s;
}

Status PgStore::CreateTargetMigration(const MigrationRecord& record,
                                      UnixMillis expires_at,
                                      std::string_view detail) {
  Status s = CreateMigration(record, Role::kTarget, expires_at, expires_at,
                             detail, /*leased=*/false);
  if (s.ok()) LogCreated(record.id, Role::kTarget, detail);
  return s;
}

Result<TransitionOutcome> PgStore::TransitionSteps(
    std::string_view id, Role role, std::span<const Move> moves) {
  MIMI_ASSIGN_OR_RETURN(std::vector<const TransitionRule*> rules,
                        CheckMoves(role, moves));
  for (const Move& m : moves) {
    if (m.joined != nullptr && !m.joined->postgresql) {
      return InternalError("a joined write without a PostgreSQL body");
    }
  }
  std::vector<bool> applied(moves.size(), false);
  Status s = pool_->Transact(
      DescribeMoves(moves) + " of " + Describe(id, role),
      [&](PgConnection& c) -> Status {
        // Transact may run this again after a serialization failure: each
        // run assigns every entry of `applied` it reaches.
        for (size_t i = 0; i < moves.size(); ++i) {
          const Move& m = moves[i];
          MIMI_ASSIGN_OR_RETURN(
              TransitionOutcome outcome,
              TransitionTx(c, id, role, m.from, m.to, *rules[i], *m.data));
          applied[i] = outcome == TransitionOutcome::kApplied;
          if (applied[i] && m.joined != nullptr) {
            MIMI_RETURN_IF_ERROR(m.joined->postgresql(c));
          }
        }
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return LogMoves(id, role, moves, applied);
}

Result<TransitionOutcome> PgStore::TransitionTx(
    PgConnection& c, std::string_view id, Role role, MigrationState from,
    MigrationState to, const TransitionRule& rule, const TransitionData& data) {
  const std::string what = std::string(StateName(from)) + " -> " +
                           std::string(StateName(to)) + " of " +
                           Describe(id, role);
  const UnixMillis now = clock_.NowMillis();
  std::optional<UnixMillis> next = data.next_attempt_at;
  if (!next && !IsTerminal(role, to)) next = now;
  PgParams p;
  p.Text(StateName(to))
      .Int(now)
      .OptionalInt(next)
      .Text(id)
      .Text(RoleName(role))
      .Text(StateName(from));
  if (data.content_hash) {
    if (data.content_hash->empty()) {
      p.Null();
    } else {
      p.Blob(*data.content_hash);
    }
  }
  p.Text(IsTerminal(role, to) ? "true" : "false");
  // The compare-and-set: PostgreSQL re-checks "state = from" on a row a
  // concurrent transaction changed, once that one has committed.
  MIMI_ASSIGN_OR_RETURN(
      PgResult upd,
      c.Run(what, data.content_hash ? kTransitionWithHash : kTransition, p));
  if (upd.affected() == 1) {
    std::vector<StoredMessage> messages;
    for (const DataMessage& m : kDataMessages) {
      if (data.*m.given) messages.push_back({m.kind, *(data.*m.given)});
    }
    MIMI_RETURN_IF_ERROR(InsertMessages(c, id, role, messages));
    MIMI_RETURN_IF_ERROR(InsertEvent(c, id, role, from, to, now, data.detail));
    if (rule.writes_tombstone) {
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(c, id, role));
      PgParams t;
      t.Blob(row.group_id)
          .Text(row.target_domain)
          .Text(row.id)
          .Int(now)
          .Blob(*data.confirmation);
      MIMI_RETURN_IF_ERROR(Done(c.Run(what, kWriteTombstone, t)));
    }
    return TransitionOutcome::kApplied;
  }

  // Nothing matched: no such row, a repeat, or a stale `from`. Only reads
  // follow, and an error rolls the transaction back anyway.
  MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(c, id, role));
  PgParams s;
  s.Text(id).Text(RoleName(role)).Text(StateName(from)).Text(StateName(to));
  MIMI_ASSIGN_OR_RETURN(PgResult seen, c.Run(what, kSeen, s));
  return UnmatchedTransition(
      what, row, seen.Int(0, 0) > 0, data,
      [&](MessageKind kind) { return ReadMessage(c, id, role, kind); });
}

Status PgStore::AcquireLease(std::string_view id, Role role,
                             std::string_view owner, int64_t duration_ms) {
  if (owner.empty()) return InvalidArgumentError("lease owner is empty");
  const std::string holder(LeaseHolderOf(owner));
  const std::string what = "leasing " + Describe(id, role);
  return pool_->Transact(what, [&](PgConnection& c) -> Status {
    const UnixMillis now = clock_.NowMillis();
    // A superseded process must not start driving again
    // (docs/protocol.md §4 "Lease ownership").
    MIMI_ASSIGN_OR_RETURN(bool ended, PgHolderHasEnded(c, holder));
    if (ended) {
      return Status(StatusCode::kFailedPrecondition,
                    "lease holder " + holder +
                        " has ended (a later incarnation of its instance "
                        "started, or it stopped); it takes no lease on " +
                        Describe(id, role));
    }
    PgParams key;
    key.Text(id).Text(RoleName(role));
    MIMI_ASSIGN_OR_RETURN(PgResult locked, c.Run(what, kLockRowNowait, key));
    if (locked.rows() == 0) {
      // No such row (GetRow says so), or one another transaction holds.
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(c, id, role));
      return Status(StatusCode::kFailedPrecondition,
                    Describe(id, role) +
                        " is being written by another transaction (lease " +
                        row.lease_owner.value_or("none") + "); retry");
    }
    PgParams p;
    p.Text(owner)
        .Int(now + duration_ms)
        .Text(id)
        .Text(RoleName(role))
        .Int(now)
        .Text(holder)
        .Text(ClaimOwnerOf(holder));
    MIMI_ASSIGN_OR_RETURN(PgResult upd, c.Run(what, kAcquire, p));
    if (upd.affected() == 1) return Status::Ok();
    MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(c, id, role));
    return Status(StatusCode::kFailedPrecondition,
                  Describe(id, role) + " is leased by " +
                      row.lease_owner.value_or("?") + " until " +
                      std::to_string(row.lease_expires_at.value_or(0)));
  });
}

Result<Store::DueClaim> PgStore::ClaimDueKeys(const DueKey* after, int limit,
                                              std::string_view owner,
                                              int64_t duration_ms) {
  if (owner.empty()) return InvalidArgumentError("claim owner is empty");
  const std::string holder(LeaseHolderOf(owner));
  const std::string what = "claiming due migrations";
  return pool_->Transact(what, [&](PgConnection& c) -> Result<DueClaim> {
    MIMI_ASSIGN_OR_RETURN(bool ended, PgHolderHasEnded(c, holder));
    if (ended) {
      return Status(StatusCode::kFailedPrecondition,
                    "lease holder " + holder +
                        " has ended (a later incarnation of its instance "
                        "started, or it stopped); it claims no migration");
    }
    const UnixMillis now = clock_.NowMillis();
    PgParams p;
    p.Int(now).Int(limit);
    if (after != nullptr) {
      p.Int(after->next_attempt_at).Text(after->id).Text(RoleName(after->role));
    } else {
      p.Null().Null().Null();
    }
    p.Text(owner).Int(now + duration_ms).Text(holder);
    MIMI_ASSIGN_OR_RETURN(PgResult q, c.Run(what, kClaimDue, p));
    DueClaim out;
    out.leased = true;
    for (int i = 0; i < q.rows(); ++i) {
      DueKey k;
      k.next_attempt_at = q.Int(i, 0);
      k.id = q.Text(i, 1);
      MIMI_ASSIGN_OR_RETURN(k.role, ParseRole(q.Text(i, 2)));
      out.keys.push_back(std::move(k));
    }
    // RETURNING keeps no order; the caller pages on the last key.
    std::sort(out.keys.begin(), out.keys.end(),
              [](const DueKey& a, const DueKey& b) {
                return std::tie(a.next_attempt_at, a.id, a.role) <
                       std::tie(b.next_attempt_at, b.id, b.role);
              });
    return out;
  });
}

Status PgStore::ReleaseLease(std::string_view id, Role role,
                             std::string_view owner) {
  const std::string what = "releasing " + Describe(id, role);
  return pool_->Transact(what, [&](PgConnection& c) -> Status {
    PgParams p;
    p.Text(id).Text(RoleName(role)).Text(owner);
    MIMI_ASSIGN_OR_RETURN(PgResult upd, c.Run(what, kRelease, p));
    if (upd.affected() == 0) {
      // Tell "no such row" apart from "not ours", which is fine.
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(c, id, role));
      (void)row;
    }
    return Status::Ok();
  });
}

Status PgStore::RecordFailure(std::string_view id, Role role,
                              std::string_view error,
                              UnixMillis next_attempt_at, bool stalled) {
  const std::string what = "recording a failure of " + Describe(id, role);
  return pool_->Transact(what, [&](PgConnection& c) -> Status {
    PgParams p;
    p.Text(error)
        .Int(next_attempt_at)
        .Int(clock_.NowMillis())
        .Text(stalled ? "true" : "false")
        .Text(id)
        .Text(RoleName(role));
    MIMI_ASSIGN_OR_RETURN(PgResult upd, c.Run(what, kFailure, p));
    if (upd.affected() == 0) return NotFoundError("no " + Describe(id, role));
    return Status::Ok();
  });
}

Status PgStore::ScheduleNow(std::string_view id, Role role) {
  const std::string what = "scheduling " + Describe(id, role);
  return pool_->Transact(what, [&](PgConnection& c) -> Status {
    MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(c, id, role));
    if (IsTerminal(role, row.state)) {
      return Status(StatusCode::kFailedPrecondition,
                    Describe(id, role) + " is " +
                        std::string(StateName(row.state)) +
                        ", which has no next step to retry");
    }
    // The state in the WHERE: a compare-and-set against a transition that
    // lands between the read above and here.
    PgParams p;
    p.Int(clock_.NowMillis())
        .Text(id)
        .Text(RoleName(role))
        .Text(StateName(row.state));
    MIMI_ASSIGN_OR_RETURN(PgResult upd, c.Run(what, kScheduleNow, p));
    if (upd.affected() != 1) {
      return Status(StatusCode::kFailedPrecondition,
                    Describe(id, role) + " changed state meanwhile");
    }
    return Status::Ok();
  });
}

Result<LeaseHolder> PgStore::RegisterLeaseHolder(std::string_view instance_id,
                                                 std::string_view host,
                                                 int64_t pid,
                                                 int64_t alive_ms) {
  MIMI_RETURN_IF_ERROR(CheckInstanceId(instance_id));
  if (alive_ms <= 0) {
    return InvalidArgumentError("lease holder: alive time must be positive");
  }
  const std::string what =
      "registering a lease holder for instance " + std::string(instance_id);
  return pool_->Transact(what, [&](PgConnection& c) -> Result<LeaseHolder> {
    // Two starts of one instance at once (a misconfiguration, but possible)
    // take turns: each sees the other's incarnation.
    PgParams lock;
    lock.Text(instance_id);
    MIMI_RETURN_IF_ERROR(Done(c.Run(what, kHolderLock, lock)));
    const UnixMillis now = clock_.NowMillis();
    // One instance runs one process at a time, so every earlier
    // incarnation is dead, whatever its heartbeat says.
    PgParams end;
    end.Int(now).Text(instance_id);
    MIMI_RETURN_IF_ERROR(Done(c.Run(what, kEndEarlier, end)));
    PgParams last;
    last.Text(instance_id);
    MIMI_ASSIGN_OR_RETURN(PgResult l, c.Run(what, kLastIncarnation, last));
    LeaseHolder h;
    h.instance_id = std::string(instance_id);
    h.incarnation = l.Int(0, 0) + 1;
    h.holder_id = h.instance_id + "/" + std::to_string(h.incarnation);
    h.host = std::string(host);
    h.pid = pid;
    h.started_at = now;
    h.heartbeat_at = now;
    h.alive_until = now + alive_ms;
    PgParams ins;
    ins.Text(h.holder_id)
        .Text(h.instance_id)
        .Int(h.incarnation)
        .Text(h.host)
        .Int(h.pid)
        .Int(h.started_at)
        .Int(h.heartbeat_at)
        .Int(h.alive_until);
    MIMI_RETURN_IF_ERROR(Done(c.Run(what, kInsertHolder, ins)));
    PgParams forget;
    forget.Int(now);
    MIMI_RETURN_IF_ERROR(Done(c.Run(what, kForgetDead, forget)));
    return h;
  });
}

Status PgStore::HeartbeatLeaseHolder(std::string_view holder_id,
                                     int64_t alive_ms) {
  const std::string what = "heartbeat of lease holder " + std::string(holder_id);
  return pool_->Transact(what, [&](PgConnection& c) -> Status {
    const UnixMillis now = clock_.NowMillis();
    PgParams p;
    p.Int(now).Int(now + alive_ms).Text(holder_id);
    MIMI_ASSIGN_OR_RETURN(PgResult upd, c.Run(what, kHeartbeat, p));
    if (upd.affected() == 1) return Status::Ok();
    MIMI_ASSIGN_OR_RETURN(bool ended, PgHolderHasEnded(c, holder_id));
    if (ended) {
      return Status(StatusCode::kFailedPrecondition,
                    "lease holder " + std::string(holder_id) +
                        " has ended (a later incarnation of its instance "
                        "started, or it stopped)");
    }
    return NotFoundError("no lease holder " + std::string(holder_id));
  });
}

Status PgStore::EndLeaseHolder(std::string_view holder_id) {
  const std::string what = "ending lease holder " + std::string(holder_id);
  return pool_->Transact(what, [&](PgConnection& c) -> Status {
    PgParams p;
    p.Int(clock_.NowMillis()).Text(holder_id);
    return Done(c.Run(what, kEndHolder, p));
  });
}

Result<std::vector<ReclaimedLease>> PgStore::ReclaimDeadLeases(
    std::string_view self) {
  const std::string what = "taking over the leases of dead holders";
  return pool_->Transact(
      what, [&](PgConnection& c) -> Result<std::vector<ReclaimedLease>> {
        const UnixMillis now = clock_.NowMillis();
        PgParams p;
        p.Int(now).Text(self);
        MIMI_ASSIGN_OR_RETURN(PgResult q, c.Run(what, kDeadLeases, p));
        std::vector<ReclaimedLease> out;
        for (int i = 0; i < q.rows(); ++i) {
          ReclaimedLease r;
          r.id = q.Text(i, 0);
          MIMI_ASSIGN_OR_RETURN(r.role, ParseRole(q.Text(i, 1)));
          r.owner = q.Text(i, 2);
          r.holder_id = q.Text(i, 3);
          r.expires_at = q.Int(i, 4);
          out.push_back(std::move(r));
        }
        // When there is nothing to take over, nothing is written.
        if (out.empty()) return out;
        for (const ReclaimedLease& r : out) {
          PgParams f;
          f.Text(r.id).Text(RoleName(r.role)).Text(r.owner);
          MIMI_RETURN_IF_ERROR(Done(c.Run(what, kRelease, f)));
        }
        PgParams forget;
        forget.Int(now);
        MIMI_RETURN_IF_ERROR(Done(c.Run(what, kForgetDead, forget)));
        return out;
      });
}

Result<std::vector<LeaseHolder>> PgStore::ListLeaseHolders() {
  return Read([&](PgConnection& c) -> Result<std::vector<LeaseHolder>> {
    MIMI_ASSIGN_OR_RETURN(PgResult q,
                          c.Run("listing lease holders", kListHolders));
    std::vector<LeaseHolder> out;
    for (int i = 0; i < q.rows(); ++i) {
      LeaseHolder h;
      h.holder_id = q.Text(i, 0);
      h.instance_id = q.Text(i, 1);
      h.incarnation = q.Int(i, 2);
      h.host = q.Text(i, 3);
      h.pid = q.Int(i, 4);
      h.started_at = q.Int(i, 5);
      h.heartbeat_at = q.Int(i, 6);
      h.alive_until = q.Int(i, 7);
      h.ended_at = q.OptionalInt(i, 8);
      out.push_back(std::move(h));
    }
    return out;
  });
}

}  // namespace mimi::store::pg
