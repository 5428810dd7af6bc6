// SqliteStore's queries: rows, lists, counts, events, nonces, tombstones,
// all on the store's own read connection (never behind the writer).
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <mutex>
#include <string>
#include <utility>

#include "store/migration_rows.h"
#include "store/sqlite_blob.h"
#include "store/sqlite_statement_cache.h"
#include "store/sqlite_status.h"
#include "store/sqlite_store.h"

namespace mimi::store {

const char* const SqliteStore::kDueQuery =
    "SELECT id, role, state, group_id, epoch, ciphersuite, source_domain, "
    "target_domain, content_hash, attempt_count, next_attempt_at, "
    "lease_owner, lease_expires_at, last_error, stalled_since, created_at, "
    "updated_at, lease_holder FROM migrations "
    "WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?1 "
    "AND (lease_owner IS NULL OR lease_expires_at <= ?1) "
    "ORDER BY next_attempt_at LIMIT ?2";

// The cursor condition is spelled out (not a row value) so that the planner
// keeps the migrations_due range scan.
const char* const SqliteStore::kDueKeysQuery =
    "SELECT next_attempt_at, id, role FROM migrations "
    "WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?1 "
    "AND (lease_owner IS NULL OR lease_expires_at <= ?1) "
    "AND (?3 IS NULL OR next_attempt_at > ?3 OR (next_attempt_at = ?3 AND "
    "(id > ?4 OR (id = ?4 AND role > ?5)))) "
    "ORDER BY next_attempt_at, id, role LIMIT ?2";

Result<MigrationRecord> SqliteStore::Get(std::string_view id, Role role) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("reading " + Describe(id, role),
                 [&] { return GetRow(reader, id, role); });
}

Result<MigrationRecord> SqliteStore::GetWithMessages(std::string_view id,
                                                     Role role,
                                                     MessageSet messages) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("reading " + Describe(id, role) + " with its messages",
                 [&]() -> Result<MigrationRecord> {
                   // The row and its messages from one committed state.
                   SQLite::Transaction snapshot(
                       reader, SQLite::TransactionBehavior::DEFERRED);
                   MIMI_ASSIGN_OR_RETURN(MigrationRecord row,
                                         GetRow(reader, id, role));
                   LoadMessages(reader, messages, row);
                   return row;
                 });
}

Result<Bytes> SqliteStore::GetMessage(std::string_view id, Role role,
                                      MessageKind kind) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("reading the " + std::string(MessageKindName(kind)) + " of " +
                     Describe(id, role),
                 [&]() -> Result<Bytes> {
                   // One statement, so that "no row" and "no message yet" are
                   // told apart in one snapshot.
                   CachedStatement q(
                       reader,
                       "SELECT m.body FROM migrations r "
                       "LEFT JOIN migration_messages m ON m.id = r.id "
                       "AND m.role = r.role AND m.kind = ?3 "
                       "WHERE r.id = ?1 AND r.role = ?2");
                   q->bind(1, std::string(id));
                   q->bind(2, std::string(RoleName(role)));
                   q->bind(3, std::string(MessageKindName(kind)));
                   if (!q->executeStep())
                     return NotFoundError("no " + Describe(id, role));
                   return ColumnBytes(q->getColumn(0));
                 });
}

Result<std::vector<MigrationRecord>> SqliteStore::GetById(std::string_view id) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("reading migration " + std::string(id), [&] {
    CachedStatement q(reader, SelectMigrations("WHERE id = ?1 ORDER BY role"));
    q->bind(1, std::string(id));
    return AllRows(*q);
  });
}

std::string SqliteStore::ListQuery(const ListFilter& filter) {
  // Only the filters that are set go into the WHERE clause: with
  // "?N IS NULL OR ..." for every filter SQLite cannot pick an index and
  // sorts the whole table on each call.
  std::string where;
  auto add = [&where](const char* condition) {
    where += where.empty() ? "WHERE " : " AND ";
    where += condition;
  };
  if (filter.role) add("role = ?1");
  if (filter.state) add("state = ?2");
  if (filter.group_id) add("group_id = ?3");
  return SelectMigrations(where +
                          " ORDER BY created_at DESC, id, role LIMIT ?4");
}

Result<std::vector<MigrationRecord>> SqliteStore::List(
    const ListFilter& filter) {
  if (filter.limit <= 0) {
    return InvalidArgumentError("list limit must be positive");
  }
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("listing migrations", [&] {
    CachedStatement q(reader, ListQuery(filter));
    if (filter.role) q->bind(1, std::string(RoleName(*filter.role)));
    if (filter.state) q->bind(2, std::string(StateName(*filter.state)));
    if (filter.group_id) BindBlob(*q, 3, *filter.group_id);
    q->bind(4, filter.limit);
    return AllRows(*q);
  });
}

Result<std::vector<MigrationRecord>> SqliteStore::ListByGroup(
    ByteSpan group_id) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("listing a group's migrations", [&] {
    CachedStatement q(
        reader, SelectMigrations("WHERE group_id = ?1 ORDER BY created_at"));
    BindBlob(*q, 1, group_id);
    return AllRows(*q);
  });
}

Result<std::vector<MigrationRecord>> SqliteStore::ListByState(
    Role role, MigrationState state, int limit) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("listing migrations by state", [&] {
    CachedStatement q(reader, SelectMigrations("WHERE role = ?1 AND state = ?2 "
                                               "ORDER BY created_at LIMIT ?3"));
    q->bind(1, std::string(RoleName(role)));
    q->bind(2, std::string(StateName(state)));
    q->bind(3, limit);
    return AllRows(*q);
  });
}

Result<std::vector<StateCount>> SqliteStore::CountByState() {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded(
      "counting migrations", [&]() -> Result<std::vector<StateCount>> {
        CachedStatement q(reader,
                          "SELECT role, state, COUNT(*) FROM migrations "
                          "GROUP BY role, state ORDER BY role, state");
        std::vector<StateCount> out;
        while (q->executeStep()) {
          StateCount c;
          MIMI_ASSIGN_OR_RETURN(c.role, ParseRole(q->getColumn(0).getString()));
          MIMI_ASSIGN_OR_RETURN(c.state,
                                ParseState(q->getColumn(1).getString()));
          c.count = q->getColumn(2).getInt64();
          out.push_back(c);
        }
        return out;
      });
}

Result<std::vector<MigrationRecord>> SqliteStore::ListDue(int limit) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("listing due migrations", [&] {
    CachedStatement q(reader, kDueQuery);
    q->bind(1, static_cast<int64_t>(clock_.NowMillis()));
    q->bind(2, limit);
    return AllRows(*q);
  });
}

Result<std::vector<DueKey>> SqliteStore::ListDueKeys(const DueKey* after,
                                                     int limit) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded(
      "listing due migrations", [&]() -> Result<std::vector<DueKey>> {
        CachedStatement q(reader, kDueKeysQuery);
        q->bind(1, static_cast<int64_t>(clock_.NowMillis()));
        q->bind(2, limit);
        if (after != nullptr) {
          q->bind(3, static_cast<int64_t>(after->next_attempt_at));
          q->bind(4, after->id);
          q->bind(5, std::string(RoleName(after->role)));
        }
        std::vector<DueKey> out;
        while (q->executeStep()) {
          DueKey k;
          k.next_attempt_at = q->getColumn(0).getInt64();
          k.id = q->getColumn(1).getString();
          MIMI_ASSIGN_OR_RETURN(k.role, ParseRole(q->getColumn(2).getString()));
          out.push_back(std::move(k));
        }
        return out;
      });
}

Result<std::vector<MigrationRecord>> SqliteStore::ListStalled(int limit) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("listing stalled migrations", [&] {
    CachedStatement q(reader,
                      SelectMigrations("WHERE stalled_since IS NOT NULL "
                                       "ORDER BY stalled_since LIMIT ?1"));
    q->bind(1, limit);
    return AllRows(*q);
  });
}

Result<int64_t> SqliteStore::CountStalled() {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("counting stalled migrations", [&] {
    return Result<int64_t>(
        reader
            .execAndGet("SELECT COUNT(*) FROM migrations WHERE "
                         "stalled_since IS NOT NULL")
            .getInt64());
  });
}

Result<std::optional<int64_t>> SqliteStore::OldestUnfinishedAgeMillis() {
  // Unfinished = not terminal for its role; built from the transition table
  // so that a new state cannot be forgotten here.
  std::string cond;
  for (Role role : {Role::kSource, Role::kTarget}) {
    std::string states;
    for (const TransitionRule& r : TransitionRules()) {
      if (r.role != role) continue;
      std::string quoted = "'" + std::string(StateName(r.from)) + "'";
      if (states.find(quoted) == std::string::npos) {
        states += (states.empty() ? "" : ", ") + quoted;
      }
    }
    cond += std::string(cond.empty() ? "" : " OR ") + "(role = '" +
            std::string(RoleName(role)) + "' AND state IN (" + states + "))";
  }
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("finding the oldest open migration",
                 [&]() -> Result<std::optional<int64_t>> {
                   CachedStatement q(
                       reader,
                       "SELECT MIN(created_at) FROM migrations WHERE " + cond);
                   q->executeStep();
                   if (q->getColumn(0).isNull())
                     return std::optional<int64_t>();
                   return std::optional<int64_t>(clock_.NowMillis() -
                                                 q->getColumn(0).getInt64());
                 });
}

Result<std::vector<MigrationEvent>> SqliteStore::Events(std::string_view id,
                                                        Role role) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded(
      "reading the events of " + Describe(id, role),
      [&]() -> Result<std::vector<MigrationEvent>> {
        CachedStatement q(reader,
                          "SELECT seq, from_state, to_state, at, detail "
                          "FROM migration_events WHERE migration_id = ?1 "
                          "AND role = ?2 ORDER BY seq");
        q->bind(1, std::string(id));
        q->bind(2, std::string(RoleName(role)));
        std::vector<MigrationEvent> out;
        while (q->executeStep()) {
          MigrationEvent e;
          e.seq = q->getColumn(0).getInt64();
          e.migration_id = std::string(id);
          e.role = role;
          if (!q->getColumn(1).isNull()) {
            MIMI_ASSIGN_OR_RETURN(e.from_state,
                                  ParseState(q->getColumn(1).getString()));
          }
          MIMI_ASSIGN_OR_RETURN(e.to_state,
                                ParseState(q->getColumn(2).getString()));
          e.at = q->getColumn(3).getInt64();
          e.detail = q->getColumn(4).getString();
          out.push_back(std::move(e));
        }
        return out;
      });
}

Result<IssuedNonce> SqliteStore::GetNonce(std::string_view nonce) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("reading a nonce", [&]() -> Result<IssuedNonce> {
    CachedStatement q(reader,
                      "SELECT nonce, ciphersuite, issued_at, expires_at "
                      "FROM issued_nonces WHERE nonce = ?1");
    q->bind(1, std::string(nonce));
    if (!q->executeStep()) {
      return NotFoundError("nonce " + std::string(nonce) + " was not issued");
    }
    IssuedNonce n;
    n.nonce = q->getColumn(0).getString();
    n.ciphersuite = static_cast<uint16_t>(q->getColumn(1).getInt());
    n.issued_at = q->getColumn(2).getInt64();
    n.expires_at = q->getColumn(3).getInt64();
    return n;
  });
}

Result<Tombstone> SqliteStore::GetTombstone(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("reading a tombstone", [&]() -> Result<Tombstone> {
    CachedStatement q(reader,
                      "SELECT group_id, target_domain, migration_id, "
                      "moved_at, confirmation FROM tombstones "
                      "WHERE group_id = ?1");
    BindBlob(*q, 1, group_id);
    if (!q->executeStep()) return NotFoundError("no tombstone for the group");
    Tombstone t;
    t.group_id = ColumnBytes(q->getColumn(0));
    t.target_domain = q->getColumn(1).getString();
    t.migration_id = q->getColumn(2).getString();
    t.moved_at = q->getColumn(3).getInt64();
    t.confirmation = ColumnBytes(q->getColumn(4));
    return t;
  });
}

}  // namespace mimi::store
