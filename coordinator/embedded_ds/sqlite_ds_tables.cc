#include "embedded_ds/sqlite_ds_tables.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <string>
#include <utility>

#include "store/sqlite_blob.h"
#include "store/sqlite_statement_cache.h"
#include "store/sqlite_status.h"

namespace mimi::embedded_ds {
namespace {

using SQLite::Statement;
using store::BindBlob;
using store::CachedStatement;
using store::ColumnBytes;
using store::WriteBlobInPlace;
using store::WritesInPlace;

void BindOptionalText(Statement& s, int i, std::string_view v) {
  if (v.empty()) {
    s.bind(i);
  } else {
    s.bind(i, std::string(v));
  }
}

// The row operations on one connection; they throw what SQLiteCpp throws,
// and SqliteDsTables runs them under store::Guarded.
class SqliteDsTx final : public DsTx {
 public:
  explicit SqliteDsTx(SQLite::Database& db) : db_(db) {}

  Status LockGroup(ByteSpan) override { return Status::Ok(); }

  Result<std::optional<GroupRow>> LoadGroup(ByteSpan group_id,
                                            Blobs blobs) override {
    // tree_epoch and group_info come before ratchet_tree in ds_group_trees,
    // so neither walks the tree's overflow pages; the tree is read only for
    // kAll, with incremental blob I/O into its buffer: as a column value
    // SQLite would hold a copy of it too (tens of MiB).
    CachedStatement q(
        db_, std::string("SELECT g.cipher_suite, g.epoch, t.tree_epoch, ") +
                 (blobs == Blobs::kAll ? "length(t.ratchet_tree)" : "NULL") +
                 ", " + (blobs != Blobs::kNone ? "t.group_info" : "NULL") +
                 ", g.frozen_by, g.imported_by, g.next_seq, t.rowid"
                 " FROM ds_groups g"
                 " JOIN ds_group_trees t ON t.group_id = g.group_id"
                 " WHERE g.group_id = ?");
    BindBlob(*q, 1, group_id);
    if (!q->executeStep()) return std::optional<GroupRow>();
    GroupRow row;
    row.cipher_suite = static_cast<uint16_t>(q->getColumn(0).getInt());
    row.epoch = static_cast<uint64_t>(q->getColumn(1).getInt64());
    row.tree_epoch = static_cast<uint64_t>(q->getColumn(2).getInt64());
    if (blobs == Blobs::kAll) {
      // In the statement's read transaction, so the same snapshot.
      row.ratchet_tree.resize(static_cast<size_t>(q->getColumn(3).getInt64()));
      store::ReadBlob(db_, "ds_group_trees", "ratchet_tree",
                      q->getColumn(8).getInt64(), row.ratchet_tree);
    }
    row.group_info = ColumnBytes(q->getColumn(4));
    if (!q->getColumn(5).isNull()) row.frozen_by = q->getColumn(5).getString();
    if (!q->getColumn(6).isNull())
      row.imported_by = q->getColumn(6).getString();
    row.next_seq = static_cast<uint64_t>(q->getColumn(7).getInt64());
    return std::optional<GroupRow>(std::move(row));
  }

  Status InsertGroup(ByteSpan group_id, const GroupRow& row,
                     ByteSpan group_info, ByteSpan ratchet_tree,
                     UnixMillis now) override {
    CachedStatement ins(
        db_,
        "INSERT INTO ds_groups (group_id, cipher_suite, epoch,"
        " frozen_by, imported_by, next_seq, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    BindBlob(*ins, 1, group_id);
    ins->bind(2, static_cast<int>(row.cipher_suite));
    ins->bind(3, static_cast<int64_t>(row.epoch));
    BindOptionalText(*ins, 4, row.frozen_by);
    BindOptionalText(*ins, 5, row.imported_by);
    ins->bind(6, static_cast<int64_t>(row.next_seq));
    ins->bind(7, static_cast<int64_t>(now));
    ins->bind(8, static_cast<int64_t>(now));
    ins->exec();
    // ratchet_tree is the table's last column: a large one is inserted as a
    // zeroblob and written in place, never copied into the record.
    const bool in_place = WritesInPlace(ratchet_tree);
    CachedStatement tree(
        db_, in_place ? "INSERT INTO ds_group_trees (group_id, tree_epoch,"
                        " group_info, ratchet_tree)"
                        " VALUES (?, ?, ?, zeroblob(?))"
                      : "INSERT INTO ds_group_trees (group_id, tree_epoch,"
                        " group_info, ratchet_tree) VALUES (?, ?, ?, ?)");
    BindBlob(*tree, 1, group_id);
    tree->bind(2, static_cast<int64_t>(row.tree_epoch));
    BindBlob(*tree, 3, group_info);
    if (in_place) {
      tree->bind(4, static_cast<int64_t>(ratchet_tree.size()));
    } else {
      BindBlob(*tree, 4, ratchet_tree);
    }
    tree->exec();
    if (in_place) {
      WriteBlobInPlace(db_, "ds_group_trees", "ratchet_tree",
                       db_.getLastInsertRowid(), ratchet_tree);
    }
    return Status::Ok();
  }

  Status DeleteGroupRows(ByteSpan group_id) override {
    for (const char* sql : {"DELETE FROM ds_messages WHERE group_id = ?",
                            "DELETE FROM ds_group_trees WHERE group_id = ?",
                            "DELETE FROM ds_groups WHERE group_id = ?"}) {
      CachedStatement del(db_, sql);
      BindBlob(*del, 1, group_id);
      del->exec();
    }
    return Status::Ok();
  }

  Result<bool> AdvanceEpoch(ByteSpan group_id, uint64_t from,
                            UnixMillis now) override {
    CachedStatement up(db_,
                       "UPDATE ds_groups SET epoch = ?, updated_at = ?"
                       " WHERE group_id = ? AND epoch = ?");
    up->bind(1, static_cast<int64_t>(from + 1));
    up->bind(2, static_cast<int64_t>(now));
    BindBlob(*up, 3, group_id);
    up->bind(4, static_cast<int64_t>(from));
    return up->exec() == 1;
  }

  Result<bool> ReplaceTree(ByteSpan group_id, uint64_t tree_epoch,
                           ByteSpan group_info,
                           ByteSpan ratchet_tree) override {
    CachedStatement tree(
        db_,
        "UPDATE ds_group_trees SET tree_epoch = ?, group_info = ?,"
        " ratchet_tree = ? WHERE group_id = ?");
    tree->bind(1, static_cast<int64_t>(tree_epoch));
    BindBlob(*tree, 2, group_info);
    BindBlob(*tree, 3, ratchet_tree);
    BindBlob(*tree, 4, group_id);
    return tree->exec() == 1;
  }

  Result<bool> SetFrozen(ByteSpan group_id, uint64_t epoch,
                         std::string_view migration_id,
                         UnixMillis now) override {
    CachedStatement up(
        db_,
        "UPDATE ds_groups SET frozen_by = ?, updated_at = ?"
        " WHERE group_id = ? AND frozen_by IS NULL AND epoch = ?");
    up->bind(1, std::string(migration_id));
    up->bind(2, static_cast<int64_t>(now));
    BindBlob(*up, 3, group_id);
    up->bind(4, static_cast<int64_t>(epoch));
    return up->exec() == 1;
  }

  Status ClearFrozen(ByteSpan group_id, std::string_view migration_id,
                     UnixMillis now) override {
    CachedStatement up(db_,
                       "UPDATE ds_groups SET frozen_by = NULL, updated_at = ?"
                       " WHERE group_id = ? AND frozen_by = ?");
    up->bind(1, static_cast<int64_t>(now));
    BindBlob(*up, 2, group_id);
    up->bind(3, std::string(migration_id));
    up->exec();
    return Status::Ok();
  }

  Result<std::optional<Tombstone>> LoadTombstone(
      ByteSpan group_id, std::string* migration_id) override {
    CachedStatement q(db_,
                      "SELECT moved_to, moved_at, confirmation, migration_id"
                      " FROM ds_tombstones WHERE group_id = ?");
    BindBlob(*q, 1, group_id);
    if (!q->executeStep()) return std::optional<Tombstone>();
    Tombstone t;
    t.group_id.assign(group_id.begin(), group_id.end());
    t.moved_to = q->getColumn(0).getString();
    t.moved_at_ms = q->getColumn(1).getInt64();
    t.confirmation = ColumnBytes(q->getColumn(2));
    if (migration_id != nullptr) *migration_id = q->getColumn(3).getString();
    return std::optional<Tombstone>(std::move(t));
  }

  Status InsertTombstone(const Tombstone& tombstone,
                         std::string_view migration_id) override {
    CachedStatement ins(
        db_,
        "INSERT INTO ds_tombstones (group_id, moved_to, moved_at,"
        " confirmation, migration_id) VALUES (?, ?, ?, ?, ?)");
    BindBlob(*ins, 1, tombstone.group_id);
    ins->bind(2, tombstone.moved_to);
    ins->bind(3, static_cast<int64_t>(tombstone.moved_at_ms));
    BindBlob(*ins, 4, tombstone.confirmation);
    ins->bind(5, std::string(migration_id));
    ins->exec();
    return Status::Ok();
  }

  Status DeleteTombstone(ByteSpan group_id) override {
    CachedStatement del(db_, "DELETE FROM ds_tombstones WHERE group_id = ?");
    BindBlob(*del, 1, group_id);
    del->exec();
    return Status::Ok();
  }

  Status AppendMessage(ByteSpan group_id, uint64_t seq, uint64_t epoch,
                       mls::ContentType type, ByteSpan message,
                       std::string_view migration_id,
                       UnixMillis now) override {
    CachedStatement ins(
        db_,
        "INSERT INTO ds_messages (group_id, seq, epoch, content_type,"
        " message, migration_id, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)");
    BindBlob(*ins, 1, group_id);
    ins->bind(2, static_cast<int64_t>(seq));
    ins->bind(3, static_cast<int64_t>(epoch));
    ins->bind(4, static_cast<int>(type));
    BindBlob(*ins, 5, message);
    BindOptionalText(*ins, 6, migration_id);
    ins->bind(7, static_cast<int64_t>(now));
    ins->exec();
    CachedStatement bump(
        db_,
        "UPDATE ds_groups SET next_seq = ?, updated_at = ? WHERE group_id = ?");
    bump->bind(1, static_cast<int64_t>(seq + 1));
    bump->bind(2, static_cast<int64_t>(now));
    BindBlob(*bump, 3, group_id);
    bump->exec();
    return Status::Ok();
  }

  Result<std::optional<uint64_t>> FanOutSeq(
      ByteSpan group_id, std::string_view migration_id) override {
    CachedStatement q(db_,
                      "SELECT seq FROM ds_messages WHERE group_id = ?"
                      " AND migration_id = ?");
    BindBlob(*q, 1, group_id);
    q->bind(2, std::string(migration_id));
    if (!q->executeStep()) return std::optional<uint64_t>();
    return std::optional<uint64_t>(
        static_cast<uint64_t>(q->getColumn(0).getInt64()));
  }

  Result<std::vector<StoredMessage>> Messages(ByteSpan group_id,
                                              uint64_t after_seq,
                                              int limit) override {
    CachedStatement q(db_,
                      "SELECT seq, message FROM ds_messages WHERE group_id = ?"
                      " AND seq > ? ORDER BY seq LIMIT ?");
    BindBlob(*q, 1, group_id);
    q->bind(2, static_cast<int64_t>(after_seq));
    q->bind(3, limit);
    return Collect(*q);
  }

  Result<std::vector<StoredMessage>> PendingMessages(ByteSpan group_id,
                                                     uint64_t epoch) override {
    CachedStatement q(db_,
                      "SELECT seq, message FROM ds_messages WHERE group_id = ?"
                      " AND epoch = ? AND migration_id IS NULL ORDER BY seq");
    BindBlob(*q, 1, group_id);
    q->bind(2, static_cast<int64_t>(epoch));
    return Collect(*q);
  }

  Result<std::optional<size_t>> TreeSize(ByteSpan group_id) override {
    CachedStatement q(db_,
                      "SELECT length(ratchet_tree) FROM ds_group_trees"
                      " WHERE group_id = ?");
    BindBlob(*q, 1, group_id);
    if (!q->executeStep()) return std::optional<size_t>();
    return std::optional<size_t>(
        static_cast<size_t>(q->getColumn(0).getInt64()));
  }

  Status ReadTree(ByteSpan group_id, std::span<uint8_t> out) override {
    CachedStatement q(db_,
                      "SELECT rowid FROM ds_group_trees WHERE group_id = ?");
    BindBlob(*q, 1, group_id);
    if (!q->executeStep()) {
      return InternalError("embedded DS: the group has no tree row");
    }
    store::ReadBlob(db_, "ds_group_trees", "ratchet_tree",
                    q->getColumn(0).getInt64(), out);
    return Status::Ok();
  }

  Result<size_t> CountGroups() override {
    CachedStatement q(db_, "SELECT COUNT(*) FROM ds_groups");
    q->executeStep();
    return static_cast<size_t>(q->getColumn(0).getInt64());
  }

 private:
  static std::vector<StoredMessage> Collect(Statement& q) {
    std::vector<StoredMessage> out;
    while (q.executeStep()) {
      out.push_back({static_cast<uint64_t>(q.getColumn(0).getInt64()),
                     ColumnBytes(q.getColumn(1))});
    }
    return out;
  }

  SQLite::Database& db_;
};

}  // namespace

Result<std::unique_ptr<SqliteDsTables>> SqliteDsTables::Open(
    std::shared_ptr<store::SqliteWriter> writer) {
  if (!writer) return InvalidArgumentError("embedded DS: no writer");
  const std::string& path = writer->path();
  return store::Guarded(
      "embedded DS: open " + path,
      [&]() -> Result<std::unique_ptr<SqliteDsTables>> {
        // Read-write only so that it may recover a WAL after a crash; it
        // never writes.
        auto reader = std::make_unique<SQLite::Database>(
            path, SQLite::OPEN_READWRITE, writer->busy_timeout_ms(),
            writer->vfs());
        reader->exec("PRAGMA query_only = ON");
        if (!reader->tableExists("ds_groups")) {
          return Status(
              StatusCode::kFailedPrecondition,
              "embedded DS: the database has no ds_groups table (open "
              "it with the store first so that its schema is upgraded)");
        }
        return std::unique_ptr<SqliteDsTables>(
            new SqliteDsTables(std::move(writer), std::move(reader)));
      });
}

SqliteDsTables::SqliteDsTables(std::shared_ptr<store::SqliteWriter> writer,
                               std::unique_ptr<SQLite::Database> reader)
    : writer_(std::move(writer)),
      reader_(std::move(reader)),
      reader_statements_(std::make_unique<store::StatementCache>(*reader_)) {}

SqliteDsTables::~SqliteDsTables() = default;

Status SqliteDsTables::Read(std::string_view what, const Body& body) {
  MutexLock lock(read_mu_);
  // clang's thread-safety analysis does not carry the held lock into the
  // lambda: it uses this reference only.
  SQLite::Database& reader = *reader_;
  return store::Guarded(what, [&]() -> Status {
    // Reads of several statements see one committed state, not a batch
    // that commits between them. Never committed: nothing to undo.
    SQLite::Transaction snapshot(reader, SQLite::TransactionBehavior::DEFERRED);
    SqliteDsTx tx(reader);
    return body(tx);
  });
}

Status SqliteDsTables::Write(std::string_view what, const Body& body) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return store::Guarded(what, [&]() -> Status {
      SqliteDsTx tx(db);
      return body(tx);
    });
  });
}

store::JoinedWrite SqliteDsTables::Join(std::string_view what, Body body) {
  store::JoinedWrite joined;
  joined.sqlite = [what = std::string(what),
                   body = std::move(body)](SQLite::Database& db) -> Status {
    return store::Guarded(what, [&]() -> Status {
      SqliteDsTx tx(db);
      return body(tx);
    });
  };
  return joined;
}

}  // namespace mimi::embedded_ds
