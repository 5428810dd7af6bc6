#include "store/migration_rows.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "store/sqlite_blob.h"
#include "store/sqlite_statement_cache.h"

namespace mimi::store {
namespace {

// No message: those are in migration_messages, read only when asked for.
constexpr const char* kColumns =
    "id, role, state, group_id, epoch, ciphersuite, source_domain, "
    "target_domain, content_hash, attempt_count, next_attempt_at, "
    "lease_owner, lease_expires_at, last_error, stalled_since, created_at, "
    "updated_at, lease_holder";

std::optional<int64_t> ColumnOptional(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

}  // namespace

std::string SelectMigrations(std::string_view where) {
  return std::string("SELECT ") + kColumns + " FROM migrations " +
         std::string(where);
}

Result<MigrationRecord> RowToRecord(SQLite::Statement& q) {
  MigrationRecord r;
  r.id = q.getColumn(0).getString();
  MIMI_ASSIGN_OR_RETURN(r.role, ParseRole(q.getColumn(1).getString()));
  MIMI_ASSIGN_OR_RETURN(r.state, ParseState(q.getColumn(2).getString()));
  r.group_id = ColumnBytes(q.getColumn(3));
  r.epoch = static_cast<uint64_t>(q.getColumn(4).getInt64());
  r.ciphersuite = static_cast<uint16_t>(q.getColumn(5).getInt());
  r.source_domain = q.getColumn(6).getString();
  r.target_domain = q.getColumn(7).getString();
  r.content_hash = ColumnBytes(q.getColumn(8));
  r.attempt_count = q.getColumn(9).getInt64();
  r.next_attempt_at = ColumnOptional(q.getColumn(10));
  if (!q.getColumn(11).isNull()) r.lease_owner = q.getColumn(11).getString();
  r.lease_expires_at = ColumnOptional(q.getColumn(12));
  r.last_error = q.getColumn(13).getString();  // NULL reads as ""
  r.stalled_since = ColumnOptional(q.getColumn(14));
  r.created_at = q.getColumn(15).getInt64();
  r.updated_at = q.getColumn(16).getInt64();
  if (!q.getColumn(17).isNull()) r.lease_holder = q.getColumn(17).getString();
  return r;
}

Result<std::vector<MigrationRecord>> AllRows(SQLite::Statement& q) {
  std::vector<MigrationRecord> out;
  while (q.executeStep()) {
    MIMI_ASSIGN_OR_RETURN(MigrationRecord r, RowToRecord(q));
    out.push_back(std::move(r));
  }
  return out;
}

Result<MigrationRecord> GetRow(SQLite::Database& db, std::string_view id,
                               Role role) {
  CachedStatement q(db, SelectMigrations("WHERE id = ?1 AND role = ?2"));
  q->bind(1, std::string(id));
  q->bind(2, std::string(RoleName(role)));
  if (!q->executeStep()) {
    return NotFoundError("no " + std::string(RoleName(role)) + " migration " +
                         std::string(id));
  }
  return RowToRecord(*q);
}

void InsertMessages(SQLite::Database& db, std::string_view id, Role role,
                    std::span<const StoredMessage> messages) {
  // One multi-row INSERT for the small ones: a statement prepared per
  // message cost a measurable share of a migration's CPU.
  std::string sql =
      "INSERT INTO migration_messages (id, role, kind, body) VALUES ";
  int param = 3;
  int rows = 0;
  for (const StoredMessage& m : messages) {
    if (m.body.empty() || WritesInPlace(m.body)) continue;
    sql += std::string(rows++ == 0 ? "" : ", ") + "(?1, ?2, ?" +
           std::to_string(param) + ", ?" + std::to_string(param + 1) + ")";
    param += 2;
  }
  if (rows > 0) {
    CachedStatement ins(db, sql);
    ins->bind(1, std::string(id));
    ins->bind(2, std::string(RoleName(role)));
    param = 3;
    for (const StoredMessage& m : messages) {
      if (m.body.empty() || WritesInPlace(m.body)) continue;
      ins->bind(param, std::string(MessageKindName(m.kind)));
      BindBlob(*ins, param + 1, m.body);
      param += 2;
    }
    ins->exec();
  }
  // A large one (the content) alone, as a zeroblob filled in place: in a
  // multi-row VALUES the rows pass through registers that SQLite copies,
  // which expands the zeroblob into memory (the content's size, zeroed, and
  // copied once more).
  for (const StoredMessage& m : messages) {
    if (!WritesInPlace(m.body)) continue;
    CachedStatement ins(db,
                        "INSERT INTO migration_messages (id, role, kind, "
                        "body) VALUES (?1, ?2, ?3, zeroblob(?4))");
    ins->bind(1, std::string(id));
    ins->bind(2, std::string(RoleName(role)));
    ins->bind(3, std::string(MessageKindName(m.kind)));
    ins->bind(4, static_cast<int64_t>(m.body.size()));
    ins->exec();
    WriteBlobInPlace(db, "migration_messages", "body", db.getLastInsertRowid(),
                     m.body);
  }
}

Bytes ReadMessage(SQLite::Database& db, std::string_view id, Role role,
                  MessageKind kind) {
  CachedStatement q(db,
                    "SELECT body FROM migration_messages "
                    "WHERE id = ?1 AND role = ?2 AND kind = ?3");
  q->bind(1, std::string(id));
  q->bind(2, std::string(RoleName(role)));
  q->bind(3, std::string(MessageKindName(kind)));
  if (!q->executeStep()) return {};
  return ColumnBytes(q->getColumn(0));
}

void LoadMessages(SQLite::Database& db, MessageSet messages,
                  MigrationRecord& record) {
  if (messages == kNoMessages) return;
  // The kinds asked for only, by their primary key: the others (the
  // content above all) are never read.
  std::string kinds;
  for (MessageKind kind : kAllMessageKinds) {
    if ((messages & MessageBit(kind)) == 0) continue;
    kinds += std::string(kinds.empty() ? "'" : ", '") +
             std::string(MessageKindName(kind)) + "'";
  }
  CachedStatement q(db,
                    "SELECT kind, body FROM migration_messages "
                    "WHERE id = ?1 AND role = ?2 AND kind IN (" +
                        kinds + ")");
  q->bind(1, record.id);
  q->bind(2, std::string(RoleName(record.role)));
  while (q->executeStep()) {
    const std::string kind = q->getColumn(0).getString();
    for (MessageKind k : kAllMessageKinds) {
      if (MessageKindName(k) == kind) {
        MessageOf(record, k) = ColumnBytes(q->getColumn(1));
      }
    }
  }
}

void InsertEvent(SQLite::Database& db, std::string_view id, Role role,
                 std::optional<MigrationState> from, MigrationState to,
                 UnixMillis at, std::string_view detail) {
  CachedStatement ins(db,
                      "INSERT INTO migration_events (migration_id, role, "
                      "from_state, to_state, at, detail) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  ins->bind(1, std::string(id));
  ins->bind(2, std::string(RoleName(role)));
  if (from) {
    ins->bind(3, std::string(StateName(*from)));
  } else {
    ins->bind(3);
  }
  ins->bind(4, std::string(StateName(to)));
  ins->bind(5, static_cast<int64_t>(at));
  ins->bind(6, std::string(detail));
  ins->exec();
}

std::string Describe(std::string_view id, Role role) {
  return std::string(RoleName(role)) + " migration " + std::string(id);
}

}  // namespace mimi::store
