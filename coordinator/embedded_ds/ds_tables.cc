#include "embedded_ds/ds_tables.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "store/sqlite_blob.h"

namespace mimi::embedded_ds {

using SQLite::Statement;
using store::BindBlob;
using store::WritesInPlace;
using store::WriteBlobInPlace;
using store::ColumnBytes;

std::optional<GroupRow> LoadGroup(SQLite::Database& db, ByteSpan group_id,
                                  Blobs blobs) {
  // tree_epoch and group_info come before ratchet_tree in ds_group_trees,
  // so neither walks the tree's overflow pages; the tree is read only for
  // kAll.
  // The tree itself is read with incremental blob I/O into its buffer:
  // as a column value SQLite would hold a copy of it too (tens of MiB).
  Statement q(db,
              std::string("SELECT g.cipher_suite, g.epoch, t.tree_epoch, ") +
                  (blobs == Blobs::kAll ? "length(t.ratchet_tree)" : "NULL") +
                  ", " + (blobs != Blobs::kNone ? "t.group_info" : "NULL") +
                  ", g.frozen_by, g.imported_by, g.next_seq, t.rowid"
                  " FROM ds_groups g"
                  " JOIN ds_group_trees t ON t.group_id = g.group_id"
                  " WHERE g.group_id = ?");
  BindBlob(q, 1, group_id);
  if (!q.executeStep()) return std::nullopt;
  GroupRow row;
  row.cipher_suite = static_cast<uint16_t>(q.getColumn(0).getInt());
  row.epoch = static_cast<uint64_t>(q.getColumn(1).getInt64());
  row.tree_epoch = static_cast<uint64_t>(q.getColumn(2).getInt64());
  if (blobs == Blobs::kAll) {
    // In the statement's read transaction, so the same snapshot.
    row.ratchet_tree.resize(static_cast<size_t>(q.getColumn(3).getInt64()));
    store::ReadBlob(db, "ds_group_trees", "ratchet_tree",
                    q.getColumn(8).getInt64(), row.ratchet_tree);
  }
  row.group_info = ColumnBytes(q.getColumn(4));
  if (!q.getColumn(5).isNull()) row.frozen_by = q.getColumn(5).getString();
  if (!q.getColumn(6).isNull()) row.imported_by = q.getColumn(6).getString();
  row.next_seq = static_cast<uint64_t>(q.getColumn(7).getInt64());
  return row;
}

void InsertGroup(SQLite::Database& db, ByteSpan group_id, const GroupRow& row,
                 ByteSpan group_info, ByteSpan ratchet_tree, UnixMillis now) {
  Statement ins(db,
                "INSERT INTO ds_groups (group_id, cipher_suite, epoch,"
                " frozen_by, imported_by, next_seq, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  BindBlob(ins, 1, group_id);
  ins.bind(2, static_cast<int>(row.cipher_suite));
  ins.bind(3, static_cast<int64_t>(row.epoch));
  for (int i : {4, 5}) {
    const std::string& v = i == 4 ? row.frozen_by : row.imported_by;
    if (v.empty()) {
      ins.bind(i);
    } else {
      ins.bind(i, v);
    }
  }
  ins.bind(6, static_cast<int64_t>(row.next_seq));
  ins.bind(7, static_cast<int64_t>(now));
  ins.bind(8, static_cast<int64_t>(now));
  ins.exec();
  // ratchet_tree is the table's last column: a large one is inserted as a
  // zeroblob and written in place, never copied into the record.
  const bool in_place = WritesInPlace(ratchet_tree);
  Statement tree(db, in_place
                         ? "INSERT INTO ds_group_trees (group_id, tree_epoch,"
                           " group_info, ratchet_tree)"
                           " VALUES (?, ?, ?, zeroblob(?))"
                         : "INSERT INTO ds_group_trees (group_id, tree_epoch,"
                           " group_info, ratchet_tree) VALUES (?, ?, ?, ?)");
  BindBlob(tree, 1, group_id);
  tree.bind(2, static_cast<int64_t>(row.tree_epoch));
  BindBlob(tree, 3, group_info);
  if (in_place) {
    tree.bind(4, static_cast<int64_t>(ratchet_tree.size()));
  } else {
    BindBlob(tree, 4, ratchet_tree);
  }
  tree.exec();
  if (in_place) {
    WriteBlobInPlace(db, "ds_group_trees", "ratchet_tree",
                     db.getLastInsertRowid(), ratchet_tree);
  }
}

void DeleteGroupRows(SQLite::Database& db, ByteSpan group_id) {
  for (const char* sql : {"DELETE FROM ds_messages WHERE group_id = ?",
                          "DELETE FROM ds_group_trees WHERE group_id = ?",
                          "DELETE FROM ds_groups WHERE group_id = ?"}) {
    Statement del(db, sql);
    BindBlob(del, 1, group_id);
    del.exec();
  }
}

std::optional<Tombstone> LoadTombstone(SQLite::Database& db, ByteSpan group_id,
                                       std::string* migration_id) {
  Statement q(db,
              "SELECT moved_to, moved_at, confirmation, migration_id"
              " FROM ds_tombstones WHERE group_id = ?");
  BindBlob(q, 1, group_id);
  if (!q.executeStep()) return std::nullopt;
  Tombstone t;
  t.group_id.assign(group_id.begin(), group_id.end());
  t.moved_to = q.getColumn(0).getString();
  t.moved_at_ms = q.getColumn(1).getInt64();
  t.confirmation = ColumnBytes(q.getColumn(2));
  if (migration_id != nullptr) *migration_id = q.getColumn(3).getString();
  return t;
}

GroupSummary Summarize(ByteSpan group_id, const GroupRow& row) {
  GroupSummary s;
  s.group_id.assign(group_id.begin(), group_id.end());
  s.epoch = row.epoch;
  s.ciphersuite = row.cipher_suite;
  s.frozen = !row.frozen_by.empty();
  s.migration_id = s.frozen ? row.frozen_by : row.imported_by;
  return s;
}

uint64_t AppendMessage(SQLite::Database& db, ByteSpan group_id, uint64_t seq,
                       uint64_t epoch, mls::ContentType type, ByteSpan message,
                       std::string_view migration_id, UnixMillis now) {
  Statement ins(db,
                "INSERT INTO ds_messages (group_id, seq, epoch, content_type,"
                " message, migration_id, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)");
  BindBlob(ins, 1, group_id);
  ins.bind(2, static_cast<int64_t>(seq));
  ins.bind(3, static_cast<int64_t>(epoch));
  ins.bind(4, static_cast<int>(type));
  BindBlob(ins, 5, message);
  if (migration_id.empty()) {
    ins.bind(6);
  } else {
    ins.bind(6, std::string(migration_id));
  }
  ins.bind(7, static_cast<int64_t>(now));
  ins.exec();
  Statement bump(
      db,
      "UPDATE ds_groups SET next_seq = ?, updated_at = ? WHERE group_id = ?");
  bump.bind(1, static_cast<int64_t>(seq + 1));
  bump.bind(2, static_cast<int64_t>(now));
  BindBlob(bump, 3, group_id);
  bump.exec();
  return seq;
}

}  // namespace mimi::embedded_ds
