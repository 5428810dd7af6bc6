#include "embedded_ds/pg_ds_tables.h"

#include <cstring>
#include <string>
#include <utility>

namespace mimi::embedded_ds {
namespace {

using store::pg::PgConnection;
using store::pg::PgParams;
using store::pg::PgResult;
using store::pg::PgStatement;

// The first key of the DS's advisory locks: the two-key space, apart from
// the store's single-key locks (pg_advisory_xact_lock(hashtext(...))).
// A hash collision only makes two groups take turns.
constexpr PgStatement kLockGroup = {
    "mimi_ds_lock_group",
    "SELECT pg_advisory_xact_lock(1296649555, hashtext(encode($1, 'hex')))"};

#define MIMI_DS_GROUP_SELECT(TREE, INFO)                                \
  "SELECT g.cipher_suite, g.epoch, t.tree_epoch, " TREE ", " INFO       \
  ", g.frozen_by, g.imported_by, g.next_seq FROM ds_groups g JOIN "     \
  "ds_group_trees t ON t.group_id = g.group_id WHERE g.group_id = $1"
constexpr PgStatement kLoadGroup[3][2] = {
    {{"mimi_ds_load_group_none",
      MIMI_DS_GROUP_SELECT("NULL::bytea", "NULL::bytea")},
     {"mimi_ds_load_group_none_lock",
      MIMI_DS_GROUP_SELECT("NULL::bytea", "NULL::bytea") " FOR UPDATE OF g"}},
    {{"mimi_ds_load_group_info",
      MIMI_DS_GROUP_SELECT("NULL::bytea", "t.group_info")},
     {"mimi_ds_load_group_info_lock",
      MIMI_DS_GROUP_SELECT("NULL::bytea", "t.group_info") " FOR UPDATE OF g"}},
    {{"mimi_ds_load_group_all",
      MIMI_DS_GROUP_SELECT("t.ratchet_tree", "t.group_info")},
     {"mimi_ds_load_group_all_lock",
      MIMI_DS_GROUP_SELECT("t.ratchet_tree", "t.group_info")
      " FOR UPDATE OF g"}}};
#undef MIMI_DS_GROUP_SELECT

constexpr PgStatement kInsertGroup = {
    "mimi_ds_insert_group",
    "INSERT INTO ds_groups (group_id, cipher_suite, epoch, frozen_by, "
    "imported_by, next_seq, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"};
constexpr PgStatement kInsertTree = {
    "mimi_ds_insert_tree",
    "INSERT INTO ds_group_trees (group_id, tree_epoch, group_info, "
    "ratchet_tree) VALUES ($1, $2, $3, $4)"};
constexpr PgStatement kDeleteMessages = {
    "mimi_ds_delete_messages", "DELETE FROM ds_messages WHERE group_id = $1"};
constexpr PgStatement kDeleteTree = {
    "mimi_ds_delete_tree", "DELETE FROM ds_group_trees WHERE group_id = $1"};
constexpr PgStatement kDeleteGroup = {
    "mimi_ds_delete_group", "DELETE FROM ds_groups WHERE group_id = $1"};
constexpr PgStatement kAdvanceEpoch = {
    "mimi_ds_advance_epoch",
    "UPDATE ds_groups SET epoch = $1, updated_at = $2 "
    "WHERE group_id = $3 AND epoch = $4"};
constexpr PgStatement kReplaceTree = {
    "mimi_ds_replace_tree",
    "UPDATE ds_group_trees SET tree_epoch = $1, group_info = $2, "
    "ratchet_tree = $3 WHERE group_id = $4"};
constexpr PgStatement kSetFrozen = {
    "mimi_ds_set_frozen",
    "UPDATE ds_groups SET frozen_by = $1, updated_at = $2 "
    "WHERE group_id = $3 AND frozen_by IS NULL AND epoch = $4"};
constexpr PgStatement kClearFrozen = {
    "mimi_ds_clear_frozen",
    "UPDATE ds_groups SET frozen_by = NULL, updated_at = $1 "
    "WHERE group_id = $2 AND frozen_by = $3"};
constexpr PgStatement kLoadTombstone = {
    "mimi_ds_load_tombstone",
    "SELECT moved_to, moved_at, confirmation, migration_id "
    "FROM ds_tombstones WHERE group_id = $1"};
constexpr PgStatement kInsertTombstone = {
    "mimi_ds_insert_tombstone",
    "INSERT INTO ds_tombstones (group_id, moved_to, moved_at, confirmation, "
    "migration_id) VALUES ($1, $2, $3, $4, $5)"};
constexpr PgStatement kDeleteTombstone = {
    "mimi_ds_delete_tombstone",
    "DELETE FROM ds_tombstones WHERE group_id = $1"};
constexpr PgStatement kInsertMessage = {
    "mimi_ds_insert_message",
    "INSERT INTO ds_messages (group_id, seq, epoch, content_type, message, "
    "migration_id, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"};
constexpr PgStatement kBumpSeq = {
    "mimi_ds_bump_seq",
    "UPDATE ds_groups SET next_seq = $1, updated_at = $2 WHERE group_id = $3"};
constexpr PgStatement kFanOutSeq = {
    "mimi_ds_fan_out_seq",
    "SELECT seq FROM ds_messages WHERE group_id = $1 AND migration_id = $2"};
constexpr PgStatement kMessages = {
    "mimi_ds_messages",
    "SELECT seq, message FROM ds_messages WHERE group_id = $1 AND seq > $2 "
    "ORDER BY seq LIMIT $3"};
constexpr PgStatement kPending = {
    "mimi_ds_pending_messages",
    "SELECT seq, message FROM ds_messages WHERE group_id = $1 AND epoch = $2 "
    "AND migration_id IS NULL ORDER BY seq"};
constexpr PgStatement kTreeSize = {
    "mimi_ds_tree_size",
    "SELECT octet_length(ratchet_tree)::bigint FROM ds_group_trees "
    "WHERE group_id = $1"};
constexpr PgStatement kReadTree = {
    "mimi_ds_read_tree",
    "SELECT ratchet_tree FROM ds_group_trees WHERE group_id = $1"};
constexpr PgStatement kCountGroups = {"mimi_ds_count_groups",
                                      "SELECT COUNT(*) FROM ds_groups"};

Status Done(const Result<PgResult>& r) {
  return r.ok() ? Status::Ok() : r.status();
}

PgParams& OptionalText(PgParams& p, std::string_view v) {
  return v.empty() ? p.Null() : p.Text(v);
}

std::vector<StoredMessage> Collect(const PgResult& r) {
  std::vector<StoredMessage> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({static_cast<uint64_t>(r.Int(i, 0)), r.Blob(i, 1)});
  }
  return out;
}

class PgDsTx final : public DsTx {
 public:
  PgDsTx(PgConnection& c, bool write) : c_(c), write_(write) {}

  Status LockGroup(ByteSpan group_id) override {
    PgParams p;
    p.Blob(group_id);
    return Done(c_.Run("embedded DS: lock group", kLockGroup, p));
  }

  Result<std::optional<GroupRow>> LoadGroup(ByteSpan group_id,
                                            Blobs blobs) override {
    PgParams p;
    p.Blob(group_id);
    MIMI_ASSIGN_OR_RETURN(
        PgResult r,
        c_.Run("embedded DS: load group",
               kLoadGroup[static_cast<int>(blobs)][write_ ? 1 : 0], p));
    if (r.rows() == 0) return std::optional<GroupRow>();
    GroupRow row;
    row.cipher_suite = static_cast<uint16_t>(r.Int(0, 0));
    row.epoch = static_cast<uint64_t>(r.Int(0, 1));
    row.tree_epoch = static_cast<uint64_t>(r.Int(0, 2));
    row.ratchet_tree = r.Blob(0, 3);
    row.group_info = r.Blob(0, 4);
    row.frozen_by = r.Text(0, 5);
    row.imported_by = r.Text(0, 6);
    row.next_seq = static_cast<uint64_t>(r.Int(0, 7));
    return std::optional<GroupRow>(std::move(row));
  }

  Status InsertGroup(ByteSpan group_id, const GroupRow& row,
                     ByteSpan group_info, ByteSpan ratchet_tree,
                     UnixMillis now) override {
    PgParams g;
    g.Blob(group_id).Int(row.cipher_suite).Int(static_cast<int64_t>(row.epoch));
    OptionalText(g, row.frozen_by);
    OptionalText(g, row.imported_by);
    g.Int(static_cast<int64_t>(row.next_seq)).Int(now);
    MIMI_RETURN_IF_ERROR(
        Done(c_.Run("embedded DS: insert group", kInsertGroup, g)));
    PgParams t;
    t.Blob(group_id)
        .Int(static_cast<int64_t>(row.tree_epoch))
        .Blob(group_info)
        .Blob(ratchet_tree);
    return Done(c_.Run("embedded DS: insert tree", kInsertTree, t));
  }

  Status DeleteGroupRows(ByteSpan group_id) override {
    PgParams p;
    p.Blob(group_id);
    for (const PgStatement* s : {&kDeleteMessages, &kDeleteTree, &kDeleteGroup}) {
      MIMI_RETURN_IF_ERROR(Done(c_.Run("embedded DS: delete group", *s, p)));
    }
    return Status::Ok();
  }

  Result<bool> AdvanceEpoch(ByteSpan group_id, uint64_t from,
                            UnixMillis now) override {
    PgParams p;
    p.Int(static_cast<int64_t>(from + 1))
        .Int(now)
        .Blob(group_id)
        .Int(static_cast<int64_t>(from));
    MIMI_ASSIGN_OR_RETURN(PgResult r,
                          c_.Run("embedded DS: advance epoch", kAdvanceEpoch, p));
    return r.affected() == 1;
  }

  Result<bool> ReplaceTree(ByteSpan group_id, uint64_t tree_epoch,
                           ByteSpan group_info,
                           ByteSpan ratchet_tree) override {
    PgParams p;
    p.Int(static_cast<int64_t>(tree_epoch))
        .Blob(group_info)
        .Blob(ratchet_tree)
        .Blob(group_id);
    MIMI_ASSIGN_OR_RETURN(PgResult r,
                          c_.Run("embedded DS: replace tree", kReplaceTree, p));
    return r.affected() == 1;
  }

  Result<bool> SetFrozen(ByteSpan group_id, uint64_t epoch,
                         std::string_view migration_id,
                         UnixMillis now) override {
    PgParams p;
    p.Text(migration_id).Int(now).Blob(group_id).Int(
        static_cast<int64_t>(epoch));
    MIMI_ASSIGN_OR_RETURN(PgResult r,
                          c_.Run("embedded DS: freeze", kSetFrozen, p));
    return r.affected() == 1;
  }

  Status ClearFrozen(ByteSpan group_id, std::string_view migration_id,
                     UnixMillis now) override {
    PgParams p;
    p.Int(now).Blob(group_id).Text(migration_id);
    return Done(c_.Run("embedded DS: unfreeze", kClearFrozen, p));
  }

  Result<std::optional<Tombstone>> LoadTombstone(
      ByteSpan group_id, std::string* migration_id) override {
    PgParams p;
    p.Blob(group_id);
    MIMI_ASSIGN_OR_RETURN(
        PgResult r, c_.Run("embedded DS: load tombstone", kLoadTombstone, p));
    if (r.rows() == 0) return std::optional<Tombstone>();
    Tombstone t;
    t.group_id.assign(group_id.begin(), group_id.end());
    t.moved_to = r.Text(0, 0);
    t.moved_at_ms = r.Int(0, 1);
    t.confirmation = r.Blob(0, 2);
    if (migration_id != nullptr) *migration_id = r.Text(0, 3);
    return std::optional<Tombstone>(std::move(t));
  }

  Status InsertTombstone(const Tombstone& tombstone,
                         std::string_view migration_id) override {
    PgParams p;
    p.Blob(tombstone.group_id)
        .Text(tombstone.moved_to)
        .Int(tombstone.moved_at_ms)
        .Blob(tombstone.confirmation)
        .Text(migration_id);
    return Done(c_.Run("embedded DS: insert tombstone", kInsertTombstone, p));
  }

  Status DeleteTombstone(ByteSpan group_id) override {
    PgParams p;
    p.Blob(group_id);
    return Done(c_.Run("embedded DS: delete tombstone", kDeleteTombstone, p));
  }

  Status AppendMessage(ByteSpan group_id, uint64_t seq, uint64_t epoch,
                       mls::ContentType type, ByteSpan message,
                       std::string_view migration_id,
                       UnixMillis now) override {
    PgParams m;
    m.Blob(group_id)
        .Int(static_cast<int64_t>(seq))
        .Int(static_cast<int64_t>(epoch))
        .Int(static_cast<int64_t>(type))
        .Blob(message);
    OptionalText(m, migration_id);
    m.Int(now);
    MIMI_RETURN_IF_ERROR(
        Done(c_.Run("embedded DS: append message", kInsertMessage, m)));
    PgParams b;
    b.Int(static_cast<int64_t>(seq + 1)).Int(now).Blob(group_id);
    return Done(c_.Run("embedded DS: append message", kBumpSeq, b));
  }

  Result<std::optional<uint64_t>> FanOutSeq(
      ByteSpan group_id, std::string_view migration_id) override {
    PgParams p;
    p.Blob(group_id).Text(migration_id);
    MIMI_ASSIGN_OR_RETURN(PgResult r,
                          c_.Run("embedded DS: fan-out seq", kFanOutSeq, p));
    if (r.rows() == 0) return std::optional<uint64_t>();
    return std::optional<uint64_t>(static_cast<uint64_t>(r.Int(0, 0)));
  }

  Result<std::vector<StoredMessage>> Messages(ByteSpan group_id,
                                              uint64_t after_seq,
                                              int limit) override {
    PgParams p;
    p.Blob(group_id).Int(static_cast<int64_t>(after_seq)).Int(limit);
    MIMI_ASSIGN_OR_RETURN(PgResult r,
                          c_.Run("embedded DS: fetch messages", kMessages, p));
    return Collect(r);
  }

  Result<std::vector<StoredMessage>> PendingMessages(ByteSpan group_id,
                                                     uint64_t epoch) override {
    PgParams p;
    p.Blob(group_id).Int(static_cast<int64_t>(epoch));
    MIMI_ASSIGN_OR_RETURN(
        PgResult r, c_.Run("embedded DS: pending messages", kPending, p));
    return Collect(r);
  }

  Result<std::optional<size_t>> TreeSize(ByteSpan group_id) override {
    PgParams p;
    p.Blob(group_id);
    MIMI_ASSIGN_OR_RETURN(PgResult r,
                          c_.Run("embedded DS: tree size", kTreeSize, p));
    if (r.rows() == 0) return std::optional<size_t>();
    return std::optional<size_t>(static_cast<size_t>(r.Int(0, 0)));
  }

  // PostgreSQL has no incremental read of a bytea: the tree arrives whole
  // in libpq's result and is copied once into `out`.
  Status ReadTree(ByteSpan group_id, std::span<uint8_t> out) override {
    PgParams p;
    p.Blob(group_id);
    MIMI_ASSIGN_OR_RETURN(PgResult r,
                          c_.Run("embedded DS: read tree", kReadTree, p));
    if (r.rows() == 0) {
      return InternalError("embedded DS: the group has no tree row");
    }
    Bytes tree = r.Blob(0, 0);
    if (tree.size() != out.size()) {
      return InternalError("embedded DS: the tree changed size in a snapshot");
    }
    if (!tree.empty()) std::memcpy(out.data(), tree.data(), tree.size());
    return Status::Ok();
  }

  Result<size_t> CountGroups() override {
    MIMI_ASSIGN_OR_RETURN(PgResult r,
                          c_.Run("embedded DS: count groups", kCountGroups));
    return static_cast<size_t>(r.Int(0, 0));
  }

 private:
  PgConnection& c_;
  const bool write_;
};

}  // namespace

Result<std::unique_ptr<PgDsTables>> PgDsTables::Open(
    std::shared_ptr<store::pg::PgPool> pool) {
  if (!pool) return InvalidArgumentError("embedded DS: no PostgreSQL pool");
  MIMI_ASSIGN_OR_RETURN(store::pg::PgPool::Handle c, pool->Acquire());
  MIMI_ASSIGN_OR_RETURN(
      PgResult r,
      c->Exec("embedded DS: open",
              "SELECT to_regclass('ds_groups') IS NOT NULL"));
  if (r.Text(0, 0) != "t") {
    return Status(StatusCode::kFailedPrecondition,
                  "embedded DS: the database has no ds_groups table (open "
                  "it with the store first so that its schema is upgraded)");
  }
  return std::unique_ptr<PgDsTables>(new PgDsTables(std::move(pool)));
}

Status PgDsTables::Read(std::string_view what, const Body& body) {
  return pool_->Transact(
      what,
      [&](PgConnection& c) -> Status {
        PgDsTx tx(c, /*write=*/false);
        return body(tx);
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

Status PgDsTables::Write(std::string_view what, const Body& body) {
  return pool_->Transact(what, [&](PgConnection& c) -> Status {
    PgDsTx tx(c, /*write=*/true);
    return body(tx);
  });
}

store::JoinedWrite PgDsTables::Join(std::string_view, Body body) {
  store::JoinedWrite joined;
  joined.postgresql = [body = std::move(body)](PgConnection& c) -> Status {
    PgDsTx tx(c, /*write=*/true);
    return body(tx);
  };
  return joined;
}

}  // namespace mimi::embedded_ds
