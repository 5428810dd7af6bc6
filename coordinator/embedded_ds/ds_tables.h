// The embedded DS's storage seam: the row operations the DS logic
// (member_api.cc, migration_ops.cc) needs on its tables (ds_groups,
// ds_group_trees, ds_messages, ds_tombstones; migrations/0002_embedded_ds.sql
// and 0004_write_once_messages.sql, in both engines' dialects), and the two
// ways to run them: a read snapshot and a write transaction. One copy of the
// DS's checks runs over either engine: SQLite (sqlite_ds_tables.h, writes as
// jobs of a store::SqliteWriter) or PostgreSQL (pg_ds_tables.h, on a pooled
// connection).
//
// The guarantees a write body may rely on, on both engines: everything it
// did is durable when Write returns OK and nothing of it when it returns an
// error; after LockGroup(g) no other write of group g (in this process or in
// another instance on the same database) runs until this one ends, and every
// read sees what such writes committed before. So a check made on a row
// inside a body holds for the rest of it: a commit is accepted at the
// current epoch only, a seq taken from next_seq is the next one, a fan-out
// recorded under its migration id is seen by a second one.
//
// DsTables is thread-safe; a DsTx belongs to the one body it is passed to.
// Only the embedded DS's own .cc files include this header.
#ifndef MIMI_EMBEDDED_DS_DS_TABLES_H_
#define MIMI_EMBEDDED_DS_DS_TABLES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/delivery_service.h"
#include "mimi_portability/group_state.h"
#include "mimi_portability/status.h"
#include "mls/mls_message.h"
#include "store/joined_write.h"

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
// freeze: reading a large group's tree would copy it twice (the engine's
// buffer, then ours) for nothing.
enum class Blobs { kNone, kGroupInfo, kAll };

// The row operations of one snapshot or transaction. Errors are the
// engine's, mapped onto Status (an implementation may also throw what its
// client library throws: its DsTables turns that into a Status).
class DsTx {
 public:
  virtual ~DsTx() = default;

  // Write bodies call it first, before reading anything of the group: it
  // keeps other writers of the group out until the transaction ends, rows
  // that do not exist yet (a creation, an import) included.
  virtual Status LockGroup(ByteSpan group_id) = 0;

  virtual Result<std::optional<GroupRow>> LoadGroup(ByteSpan group_id,
                                                    Blobs blobs) = 0;
  // Creates the group: its row in ds_groups and its tree and GroupInfo in
  // ds_group_trees (kept apart so that changing the group's epoch, freeze
  // or next_seq never rewrites them). row's blob fields are ignored; empty
  // frozen_by / imported_by store NULL.
  virtual Status InsertGroup(ByteSpan group_id, const GroupRow& row,
                             ByteSpan group_info, ByteSpan ratchet_tree,
                             UnixMillis now) = 0;
  // Deletes the group's messages, tree and row.
  virtual Status DeleteGroupRows(ByteSpan group_id) = 0;
  // The compare-and-set of a commit: epoch `from` -> from + 1; false if the
  // group is not at `from`.
  virtual Result<bool> AdvanceEpoch(ByteSpan group_id, uint64_t from,
                                    UnixMillis now) = 0;
  // A commit is the one change that replaces the tree; false if the group
  // has no tree row.
  virtual Result<bool> ReplaceTree(ByteSpan group_id, uint64_t tree_epoch,
                                   ByteSpan group_info,
                                   ByteSpan ratchet_tree) = 0;
  // Frozen by `migration_id` if unfrozen at `epoch`; false otherwise.
  virtual Result<bool> SetFrozen(ByteSpan group_id, uint64_t epoch,
                                 std::string_view migration_id,
                                 UnixMillis now) = 0;
  // Unfrozen if frozen by `migration_id`; nothing otherwise.
  virtual Status ClearFrozen(ByteSpan group_id, std::string_view migration_id,
                             UnixMillis now) = 0;

  // The tombstone of a group that left; `migration_id`, if not null,
  // receives the id of the migration it left under.
  virtual Result<std::optional<Tombstone>> LoadTombstone(
      ByteSpan group_id, std::string* migration_id) = 0;
  virtual Status InsertTombstone(const Tombstone& tombstone,
                                 std::string_view migration_id) = 0;
  virtual Status DeleteTombstone(ByteSpan group_id) = 0;

  // Appends a message at `seq` and moves the group's next_seq past it.
  virtual Status AppendMessage(ByteSpan group_id, uint64_t seq, uint64_t epoch,
                               mls::ContentType type, ByteSpan message,
                               std::string_view migration_id,
                               UnixMillis now) = 0;
  // The seq of the commit `migration_id` fanned out, if it did.
  virtual Result<std::optional<uint64_t>> FanOutSeq(
      ByteSpan group_id, std::string_view migration_id) = 0;
  // Messages with seq > after_seq, in order, at most `limit`.
  virtual Result<std::vector<StoredMessage>> Messages(ByteSpan group_id,
                                                      uint64_t after_seq,
                                                      int limit) = 0;
  // The messages of `epoch` that no migration fanned out, in order.
  virtual Result<std::vector<StoredMessage>> PendingMessages(
      ByteSpan group_id, uint64_t epoch) = 0;
  // The size of the group's tree (nullopt: no tree row), and the tree read
  // into `out` (exactly that size): a large tree goes from storage into its
  // place in an encoding without another copy where the engine allows.
  virtual Result<std::optional<size_t>> TreeSize(ByteSpan group_id) = 0;
  virtual Status ReadTree(ByteSpan group_id, std::span<uint8_t> out) = 0;

  virtual Result<size_t> CountGroups() = 0;
};

class DsTables {
 public:
  using Body = std::function<Status(DsTx&)>;

  virtual ~DsTables() = default;

  // Runs `body` over one committed state of the tables; it must not write.
  virtual Status Read(std::string_view what, const Body& body) = 0;
  // Runs `body` in one write transaction, committed if it returns OK and
  // rolled back if not. It may run `body` more than once (the server rolled
  // a transaction back for a serialization failure), so a body assigns its
  // outputs rather than accumulating them.
  virtual Status Write(std::string_view what, const Body& body) = 0;
  // `body` as a write that runs inside a store call's transaction on the
  // same database (store/joined_write.h), with the guarantees of Write: it
  // commits with the store's writes or not at all. Only for tables on the
  // store's own database (the daemon wires that).
  virtual store::JoinedWrite Join(std::string_view what, Body body) = 0;

  // The same for a body returning Result<T>.
  template <typename T>
  Result<T> ReadValue(std::string_view what,
                      const std::function<Result<T>(DsTx&)>& body) {
    return Run<T>(what, body, /*write=*/false);
  }
  template <typename T>
  Result<T> WriteValue(std::string_view what,
                       const std::function<Result<T>(DsTx&)>& body) {
    return Run<T>(what, body, /*write=*/true);
  }

 private:
  template <typename T>
  Result<T> Run(std::string_view what,
                const std::function<Result<T>(DsTx&)>& body, bool write) {
    std::optional<T> out;
    const Body wrapped = [&](DsTx& tx) -> Status {
      Result<T> r = body(tx);
      if (!r.ok()) return r.status();
      out = std::move(r).value();
      return Status::Ok();
    };
    Status s = write ? Write(what, wrapped) : Read(what, wrapped);
    if (!s.ok()) return s;
    return std::move(*out);
  }
};

// The group as it lives here, read in `tx`: kNotFound "moved" (naming
// where it went) if it left, "unknown-group" if it never lived here. Every
// operation on a group starts so.
Result<GroupRow> LoadLiveGroup(DsTx& tx, ByteSpan group_id, Blobs blobs);

GroupSummary Summarize(ByteSpan group_id, const GroupRow& row);

}  // namespace mimi::embedded_ds

#endif  // MIMI_EMBEDDED_DS_DS_TABLES_H_
