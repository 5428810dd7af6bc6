// The embedded DS's tables (ds_groups, ds_group_trees, ds_messages,
// ds_tombstones; created by migrations/0002_embedded_ds.sql, the trees split
// off by 0004_write_once_messages.sql) as the DS reads and writes them: one
// group, a tombstone, appending a message, and a read snapshot. The
// member API (member_api.cc) and the migration operations
// (migration_ops.cc) go through these, so both see a row the same way.
//
// Free functions over a caller's connection; as thread-safe as that
// connection. They throw what SQLiteCpp throws: callers run them under
// store::Guarded. Only the embedded DS's own .cc files include this header.
#ifndef MIMI_EMBEDDED_DS_DS_TABLES_H_
#define MIMI_EMBEDDED_DS_DS_TABLES_H_

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/delivery_service.h"
#include "mls/mls_message.h"

namespace mimi::embedded_ds {

struct GroupRow {
  uint16_t cipher_suite = 0;
  uint64_t epoch = 0;
  uint64_t tree_epoch = 0;
  Bytes ratchet_tree;
  Bytes group_info;
  std::string frozen_by;
  std::string imported_by;
  uint64_t next_seq = 1;
};

// Which blobs LoadGroup reads. Most callers only need the group's epoch and
// freeze: reading a large group's tree would copy it twice (SQLite's buffer,
// then ours) for nothing.
enum class Blobs { kNone, kGroupInfo, kAll };

std::optional<GroupRow> LoadGroup(SQLite::Database& db, ByteSpan group_id,
                                  Blobs blobs = Blobs::kNone);

// Creates the group: its row in ds_groups and its tree and GroupInfo in
// ds_group_trees (kept apart so that changing the group's epoch, freeze or
// next_seq never rewrites them). The blobs are passed apart, bound without a
// copy; row's blob fields are ignored. Empty frozen_by / imported_by store
// NULL.
void InsertGroup(SQLite::Database& db, ByteSpan group_id, const GroupRow& row,
                 ByteSpan group_info, ByteSpan ratchet_tree, UnixMillis now);

// Deletes the group's messages, tree and row.
void DeleteGroupRows(SQLite::Database& db, ByteSpan group_id);

// The tombstone of a group that left; `migration_id`, if given, receives
// the id of the migration it left under.
std::optional<Tombstone> LoadTombstone(SQLite::Database& db, ByteSpan group_id,
                                       std::string* migration_id = nullptr);

GroupSummary Summarize(ByteSpan group_id, const GroupRow& row);

// Appends a message at `seq` and moves the group's next_seq past it;
// returns `seq`. The caller holds a write transaction.
uint64_t AppendMessage(SQLite::Database& db, ByteSpan group_id, uint64_t seq,
                       uint64_t epoch, mls::ContentType type, ByteSpan message,
                       std::string_view migration_id, UnixMillis now);

// Reads of several statements see one committed state, not a batch that
// commits between them.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(SQLite::Database& db)
      : tx_(db, SQLite::TransactionBehavior::DEFERRED) {}

 private:
  SQLite::Transaction tx_;  // never committed: rolled back, nothing to undo
};

}  // namespace mimi::embedded_ds

#endif  // MIMI_EMBEDDED_DS_DS_TABLES_H_
