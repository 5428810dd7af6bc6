#include "embedded_ds/embedded_ds.h"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <functional>
#include <optional>

#include "codec/reader.h"
#include "mls/group_info.h"
#include "mls/leaf_node.h"
#include "mls/mls_message.h"
#include "mls/ratchet_tree.h"
#include "mls/signature_checks.h"
#include "mls/tree_hash.h"
#include "mls/vectors.h"
#include "store/sqlite_status.h"

namespace mimi::embedded_ds {
namespace {

using SQLite::Statement;

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

// Without a copy: every statement here runs and ends while the bytes it
// binds are alive, and a copy of a ratchet tree (tens of MiB for a large
// group) would add to the peak memory of an import.
void BindBlob(Statement& s, int index, ByteSpan b) {
  // SQLite stores a NULL pointer as NULL, not as an empty blob.
  static const uint8_t kEmpty = 0;
  s.bindNoCopy(index, b.empty() ? &kEmpty : b.data(), static_cast<int>(b.size()));
}

Bytes ColumnBytes(const SQLite::Column& c) {
  if (c.isNull()) return {};
  const auto* p = static_cast<const uint8_t*>(c.getBlob());
  return Bytes(p, p + c.getBytes());
}

std::string GroupHex(ByteSpan group_id) { return ToHex(group_id); }

Status MovedError(const Tombstone& t) {
  return Status(StatusCode::kNotFound, "moved",
                "group " + GroupHex(t.group_id) + " moved to " + t.moved_to);
}

Status UnknownGroup(ByteSpan group_id) {
  return Status(StatusCode::kNotFound, "unknown-group",
                "no group " + GroupHex(group_id) + " here");
}

// The detail does not name the migration: its id is the nonce that opens
// the migration's status endpoint, and this refusal goes to anyone.
Status FrozenError(ByteSpan group_id) {
  return Status(StatusCode::kFailedPrecondition, "group-frozen",
                "group " + GroupHex(group_id) + " is frozen by a migration");
}

Status NotFrozenError(ByteSpan group_id, std::string_view migration_id) {
  return Status(StatusCode::kFailedPrecondition, "not-frozen",
                "group " + GroupHex(group_id) + " is not frozen by migration " +
                    std::string(migration_id));
}

Status EpochError(std::string_view what, uint64_t got, uint64_t current) {
  return Status(StatusCode::kFailedPrecondition, "epoch-mismatch",
                std::string(what) + " for epoch " + std::to_string(got) +
                    ", group is at epoch " + std::to_string(current));
}

// Which blobs LoadGroup reads. Most callers only need the group's epoch and
// freeze: reading a large group's tree would copy it twice (SQLite's buffer,
// then ours) for nothing.
enum class Blobs { kNone, kGroupInfo, kAll };

std::optional<GroupRow> LoadGroup(SQLite::Database& db, ByteSpan group_id,
                                  Blobs blobs = Blobs::kNone) {
  Statement q(
      db,
      std::string("SELECT cipher_suite, epoch, tree_epoch, ") +
          (blobs == Blobs::kAll ? "ratchet_tree" : "NULL") + ", " +
          (blobs != Blobs::kNone ? "group_info" : "NULL") +
          ", frozen_by, imported_by, next_seq FROM ds_groups WHERE group_id = ?");
  BindBlob(q, 1, group_id);
  if (!q.executeStep()) return std::nullopt;
  GroupRow row;
  row.cipher_suite = static_cast<uint16_t>(q.getColumn(0).getInt());
  row.epoch = static_cast<uint64_t>(q.getColumn(1).getInt64());
  row.tree_epoch = static_cast<uint64_t>(q.getColumn(2).getInt64());
  row.ratchet_tree = ColumnBytes(q.getColumn(3));
  row.group_info = ColumnBytes(q.getColumn(4));
  if (!q.getColumn(5).isNull()) row.frozen_by = q.getColumn(5).getString();
  if (!q.getColumn(6).isNull()) row.imported_by = q.getColumn(6).getString();
  row.next_seq = static_cast<uint64_t>(q.getColumn(7).getInt64());
  return row;
}

std::optional<Tombstone> LoadTombstone(SQLite::Database& db, ByteSpan group_id,
                                       std::string* migration_id = nullptr) {
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

// Appends a message; the caller holds a write transaction.
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

// Reads of several statements see one committed state, not a batch that
// commits between them.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(SQLite::Database& db)
      : tx_(db, SQLite::TransactionBehavior::DEFERRED) {}

 private:
  SQLite::Transaction tx_;  // never committed: rolled back, nothing to undo
};

// Reads a ratchet tree by the rules of mls::DecodeRatchetTree (a leaf at
// even node indexes, a parent at odd ones, the array ending on a non-blank
// leaf) one node at a time, handing each member to `on_leaf`, which may stop
// the walk by setting *stop. DecodeRatchetTree keeps every node as heap
// objects: for a group of 380,000 members (a 64 MiB tree) that is several
// hundred MiB and seconds of allocation, where the DS only needs to check
// the tree or find one leaf.
using LeafVisitor =
    std::function<Status(uint32_t leaf_index, const mls::LeafNode& leaf, bool* stop)>;

Status WalkRatchetTree(ByteSpan bytes, const LeafVisitor& on_leaf) {
  constexpr std::string_view kRoot = "ratchet_tree";
  codec::Reader r(bytes);
  size_t count = 0;
  bool last_present = false, stop = false;
  auto read_node = [&](codec::Reader& sub, std::string_view element) -> Status {
    if (stop) {  // the rest is not looked at
      sub = codec::Reader(ByteSpan());
      return Status::Ok();
    }
    if (count == mls::kMaxRatchetTreeNodes) return mls::TreeTooLargeError(kRoot);
    const size_t index = count++;
    MIMI_RETURN_IF_ERROR(mls::ReadPresence(sub, element, &last_present));
    if (!last_present) return Status::Ok();
    const std::string type_field = codec::FieldPath(element, "node_type");
    uint8_t type = 0;
    MIMI_RETURN_IF_ERROR(sub.ReadU8(type_field, &type));
    const bool leaf_position = index % 2 == 0;
    if (type == 1 && leaf_position) {
      mls::LeafNode leaf;
      MIMI_RETURN_IF_ERROR(
          mls::ReadLeafNode(sub, codec::FieldPath(element, "leaf_node"), &leaf));
      return on_leaf(static_cast<uint32_t>(index / 2), leaf, &stop);
    }
    if (type == 2 && !leaf_position) {
      const std::string path = codec::FieldPath(element, "parent_node");
      ByteSpan skipped;
      MIMI_RETURN_IF_ERROR(
          sub.ReadOpaqueView(codec::FieldPath(path, "encryption_key"), &skipped));
      MIMI_RETURN_IF_ERROR(
          sub.ReadOpaqueView(codec::FieldPath(path, "parent_hash"), &skipped));
      return mls::ReadVector(sub, codec::FieldPath(path, "unmerged_leaves"),
                             [](codec::Reader& leaves, std::string_view e) {
                               uint32_t leaf = 0;
                               return leaves.ReadU32(e, &leaf);
                             });
    }
    if (type == 1 || type == 2) {
      return MalformedError(type_field + ": a " + (type == 1 ? "leaf" : "parent") +
                            " at node index " + std::to_string(index) +
                            ", where a " + (leaf_position ? "leaf" : "parent") +
                            " belongs");
    }
    return MalformedError(type_field + ": invalid node type " + std::to_string(type));
  };
  MIMI_RETURN_IF_ERROR(mls::ReadVector(r, kRoot, read_node));
  if (stop) return Status::Ok();
  MIMI_RETURN_IF_ERROR(r.ExpectEnd(kRoot));
  if (count == 0) return MalformedError(std::string(kRoot) + ": no nodes");
  if (count % 2 == 0 || !last_present) {
    return MalformedError(std::string(kRoot) + ": does not end on a non-blank leaf (" +
                          std::to_string(count) + " nodes)");
  }
  return Status::Ok();
}

Status CheckTree(ByteSpan tree) {
  // A well-formed tree ends on a member's leaf, so it has one.
  return WalkRatchetTree(tree, [](uint32_t, const mls::LeafNode&, bool*) {
    return Status::Ok();
  });
}

// The signature key of the member at `leaf`; 403 not-a-member if that leaf
// is blank or beyond the tree. `tree` was checked when it came in.
Result<Bytes> LeafSignatureKey(ByteSpan tree, uint32_t leaf, std::string_view whose) {
  std::optional<Bytes> key;
  MIMI_RETURN_IF_ERROR(WalkRatchetTree(
      tree, [&key, leaf](uint32_t index, const mls::LeafNode& node, bool* stop) {
        if (index == leaf) key = node.signature_key;
        *stop = index >= leaf;
        return Status::Ok();
      }));
  if (!key) {
    return Status(StatusCode::kPermissionDenied, "not-a-member",
                  std::string(whose) + ": leaf " + std::to_string(leaf) +
                      " is not a member of the group");
  }
  return *std::move(key);
}

Status BadGroupInfo(const std::string& detail) {
  return Status(StatusCode::kInvalidArgument, "bad-group-info", detail);
}

Status WrongEpoch(uint64_t claimed, uint64_t current) {
  return Status(StatusCode::kFailedPrecondition, "wrong-epoch",
                "MIMI-Epoch is " + std::to_string(claimed) + ", the group is at epoch " +
                    std::to_string(current));
}

// A GroupInfo handed in with `tree` (at create, or for the epoch a commit
// starts): it names this tree (tree_hash), and a member of this tree signed
// it. The caller checks group id, suite and epoch against its own state.
Result<mls::GroupInfo> CheckGroupInfo(ByteSpan group_info_message, ByteSpan tree) {
  auto info = mls::DecodeGroupInfoMessage(group_info_message);
  if (!info.ok()) return BadGroupInfo(info.status().detail());
  const mls::GroupContext& ctx = info->group_context;
  auto hash = mls::RatchetTreeHash(ctx.cipher_suite, tree);
  if (!hash.ok()) {
    return Status(hash.status().code(), hash.status().detail());
  }
  if (*hash != ctx.tree_hash) {
    return Status(StatusCode::kInvalidArgument, "tree-hash-mismatch",
                  "GroupInfo.group_context.tree_hash " + ToHex(ctx.tree_hash) +
                      " is not the tree hash of ratchet_tree (" + ToHex(*hash) + ")");
  }
  auto key = LeafSignatureKey(tree, info->signer, "GroupInfo.signer");
  if (!key.ok()) {
    return Status(StatusCode::kBadSignature, "bad-signature", key.status().detail());
  }
  Status verified = mls::VerifyGroupInfoSignature(*info, *key);
  if (!verified.ok()) {
    return Status(StatusCode::kBadSignature, "bad-signature", verified.detail());
  }
  return info;
}

}  // namespace

Result<std::unique_ptr<EmbeddedDs>> EmbeddedDs::Open(const std::string& db_path,
                                                     const Clock& clock) {
  // The schema is the store's to upgrade; the DS only checks its tables.
  store::SqliteWriterOptions options;
  options.create_if_missing = false;
  options.upgrade_schema = false;
  auto writer = store::SqliteWriter::Open(db_path, options);
  if (!writer.ok()) {
    return Status(writer.status().code(),
                  "embedded DS: " + writer.status().detail());
  }
  return Open(std::move(writer).value(), clock);
}

Result<std::unique_ptr<EmbeddedDs>> EmbeddedDs::Open(
    std::shared_ptr<store::SqliteWriter> writer, const Clock& clock) {
  if (!writer) return InvalidArgumentError("embedded DS: no writer");
  const std::string& path = writer->path();
  try {
    // Read-write only so that it may recover a WAL after a crash; it never
    // writes.
    auto reader = std::make_unique<SQLite::Database>(
        path, SQLite::OPEN_READWRITE, writer->busy_timeout_ms());
    reader->exec("PRAGMA query_only = ON");
    if (!reader->tableExists("ds_groups")) {
      return Status(StatusCode::kFailedPrecondition,
                    "embedded DS: the database has no ds_groups table (open "
                    "it with the store first so that its schema is upgraded)");
    }
    return std::unique_ptr<EmbeddedDs>(
        new EmbeddedDs(std::move(writer), std::move(reader), clock));
  } catch (...) {
    return store::StatusFromCurrentException("embedded DS: open " + path);
  }
}

EmbeddedDs::EmbeddedDs(std::shared_ptr<store::SqliteWriter> writer,
                       std::unique_ptr<SQLite::Database> reader,
                       const Clock& clock)
    : writer_(std::move(writer)), reader_(std::move(reader)), clock_(clock) {}

void EmbeddedDs::SetMaxGroupIdBytes(size_t n) {
  max_group_id_bytes_.store(n, std::memory_order_relaxed);
}

Result<GroupSummary> EmbeddedDs::CreateGroup(ByteSpan group_info_message,
                                             ByteSpan ratchet_tree) {
  MIMI_ASSIGN_OR_RETURN(mls::GroupInfo info,
                        mls::DecodeGroupInfoMessage(group_info_message));
  const mls::GroupContext& ctx = info.group_context;
  const size_t max_id = max_group_id_bytes_.load(std::memory_order_relaxed);
  if (ctx.group_id.size() > max_id) {
    return Status(StatusCode::kInvalidArgument, "group-id-too-long",
                  "the group id has " + std::to_string(ctx.group_id.size()) +
                      " bytes; this DS takes at most " + std::to_string(max_id));
  }
  // The stored GroupInfo is what the next commit's signature is checked
  // against, so it must be this tree's and signed by one of its members.
  MIMI_RETURN_IF_ERROR(CheckGroupInfo(group_info_message, ratchet_tree).status());
  return writer_->Write([&](SQLite::Database& db) -> Result<GroupSummary> {
    try {
      if (auto t = LoadTombstone(db, ctx.group_id)) return MovedError(*t);
      if (LoadGroup(db, ctx.group_id)) {
        return Status(
            StatusCode::kAlreadyExists, "group-exists",
            "group " + GroupHex(ctx.group_id) + " already lives here");
      }
      const UnixMillis now = clock_.NowMillis();
      Statement ins(
          db,
          "INSERT INTO ds_groups (group_id, cipher_suite, epoch,"
          " tree_epoch, ratchet_tree, group_info, next_seq, created_at,"
          " updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)");
      BindBlob(ins, 1, ctx.group_id);
      ins.bind(2, static_cast<int>(ctx.cipher_suite));
      ins.bind(3, static_cast<int64_t>(ctx.epoch));
      ins.bind(4, static_cast<int64_t>(ctx.epoch));
      BindBlob(ins, 5, ratchet_tree);
      BindBlob(ins, 6, group_info_message);
      ins.bind(7, static_cast<int64_t>(now));
      ins.bind(8, static_cast<int64_t>(now));
      ins.exec();
      GroupRow row;
      row.cipher_suite = ctx.cipher_suite;
      row.epoch = ctx.epoch;
      return Summarize(ctx.group_id, row);
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: create group");
    }
  });
}

Status EmbeddedDs::AuthenticateMember(const MemberRequest& req) {
  MIMI_ASSIGN_OR_RETURN(CurrentGroup g, ReadCurrent(req.group_id));
  if (req.epoch != g.epoch) return WrongEpoch(req.epoch, g.epoch);
  MIMI_ASSIGN_OR_RETURN(Bytes key, LeafSignatureKey(g.ratchet_tree, req.sender,
                                                    kSenderHeader));
  return VerifyMemberRequest(g.cipher_suite, key, req);
}

Result<EmbeddedDs::CurrentGroup> EmbeddedDs::ReadCurrent(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  try {
    ReadSnapshot snapshot(*reader_);
    if (auto t = LoadTombstone(*reader_, group_id)) return MovedError(*t);
    std::optional<GroupRow> row = LoadGroup(*reader_, group_id, Blobs::kAll);
    if (!row) return UnknownGroup(group_id);
    CurrentGroup g;
    g.cipher_suite = row->cipher_suite;
    g.epoch = row->epoch;
    g.tree_epoch = row->tree_epoch;
    g.frozen = !row->frozen_by.empty();
    g.ratchet_tree = std::move(row->ratchet_tree);
    g.group_info = std::move(row->group_info);
    return g;
  } catch (...) {
    return store::StatusFromCurrentException("embedded DS: read group");
  }
}

Status EmbeddedDs::CheckMemberMessage(ByteSpan group_id, const CurrentGroup& g,
                                      uint32_t sender, const mls::MlsMessage& msg) {
  if (!msg.public_message) return Status::Ok();  // sealed: framing is all a DS sees
  const mls::PublicMessage& pm = *msg.public_message;
  if (pm.sender.type != mls::SenderType::kMember || pm.sender.index != sender) {
    return Status(StatusCode::kPermissionDenied, "sender-mismatch",
                  "the PublicMessage is from " +
                      std::string(mls::SenderTypeName(pm.sender.type)) + " " +
                      std::to_string(pm.sender.index) + ", not from MIMI-Sender " +
                      std::to_string(sender));
  }
  // FramedContentTBS covers the GroupContext of the current epoch, which the
  // DS has when the GroupInfo it holds is of this epoch (always, except
  // right after an import: the source's GroupInfo is of the epoch before the
  // migration commit). Without it the request signature is all there is.
  auto stored = mls::DecodeGroupInfoMessage(g.group_info);
  if (!stored.ok() || stored->group_context.epoch != g.epoch ||
      g.tree_epoch != g.epoch ||
      !std::equal(group_id.begin(), group_id.end(),
                  stored->group_context.group_id.begin(),
                  stored->group_context.group_id.end())) {
    return Status::Ok();
  }
  MIMI_ASSIGN_OR_RETURN(Bytes key, LeafSignatureKey(g.ratchet_tree, sender, "sender"));
  Status verified = mls::VerifyPublicMessageSignature(
      g.cipher_suite, pm, stored->group_context_bytes, key);
  if (!verified.ok()) {
    return Status(StatusCode::kBadSignature, "bad-signature", verified.detail());
  }
  return Status::Ok();
}

Result<uint64_t> EmbeddedDs::SubmitCommit(ByteSpan group_id, uint32_t sender,
                                          uint64_t epoch, ByteSpan commit,
                                          ByteSpan new_ratchet_tree,
                                          ByteSpan new_group_info) {
  MIMI_ASSIGN_OR_RETURN(mls::MlsMessage msg, mls::DecodeMlsMessage(commit));
  if (msg.content_type() != mls::ContentType::kCommit) {
    return Status(StatusCode::kInvalidArgument, "not-a-commit",
                  "the message is a " +
                      std::string(mls::ContentTypeName(msg.content_type())));
  }
  if (!std::equal(group_id.begin(), group_id.end(), msg.group_id().begin(),
                  msg.group_id().end())) {
    return Status(StatusCode::kInvalidArgument, "wrong-group",
                  "the commit is for group " + GroupHex(msg.group_id()));
  }
  if (new_group_info.empty()) {
    return BadGroupInfo("group_info: the GroupInfo of the new epoch is required");
  }
  MIMI_ASSIGN_OR_RETURN(CurrentGroup g, ReadCurrent(group_id));
  if (epoch != g.epoch) return WrongEpoch(epoch, g.epoch);
  if (g.frozen) return FrozenError(group_id);
  if (msg.epoch() != g.epoch) return EpochError("commit", msg.epoch(), g.epoch);
  MIMI_RETURN_IF_ERROR(CheckMemberMessage(group_id, g, sender, msg));
  MIMI_ASSIGN_OR_RETURN(mls::GroupInfo info,
                        CheckGroupInfo(new_group_info, new_ratchet_tree));
  const mls::GroupContext& ctx = info.group_context;
  if (ctx.group_id != Bytes(group_id.begin(), group_id.end()) ||
      ctx.epoch != g.epoch + 1 || ctx.cipher_suite != g.cipher_suite) {
    return BadGroupInfo("group_info is for group " + GroupHex(ctx.group_id) +
                        " epoch " + std::to_string(ctx.epoch) + " suite " +
                        std::to_string(ctx.cipher_suite) + ", not group " +
                        GroupHex(group_id) + " epoch " + std::to_string(g.epoch + 1) +
                        " suite " + std::to_string(g.cipher_suite));
  }
  return writer_->Write([&](SQLite::Database& db) -> Result<uint64_t> {
    try {
      if (auto t = LoadTombstone(db, group_id)) return MovedError(*t);
      std::optional<GroupRow> row = LoadGroup(db, group_id);
      if (!row) return UnknownGroup(group_id);
      if (!row->frozen_by.empty()) return FrozenError(group_id);
      // What was checked above holds only for the epoch it was read at.
      if (row->epoch != g.epoch) return WrongEpoch(epoch, row->epoch);
      const UnixMillis now = clock_.NowMillis();
      const uint64_t seq =
          AppendMessage(db, group_id, row->next_seq, row->epoch,
                        mls::ContentType::kCommit, commit, "", now);
      Statement up(
          db,
          "UPDATE ds_groups SET epoch = ?, tree_epoch = ?, ratchet_tree = ?,"
          " group_info = ?, updated_at = ? WHERE group_id = ? AND epoch = ?");
      up.bind(1, static_cast<int64_t>(row->epoch + 1));
      up.bind(2, static_cast<int64_t>(row->epoch + 1));
      BindBlob(up, 3, new_ratchet_tree);
      BindBlob(up, 4, new_group_info);
      up.bind(5, static_cast<int64_t>(now));
      BindBlob(up, 6, group_id);
      up.bind(7, static_cast<int64_t>(row->epoch));
      if (up.exec() != 1)
        return InternalError("embedded DS: epoch moved under lock");
      return seq;
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: submit commit");
    }
  });
}

Result<uint64_t> EmbeddedDs::SubmitMessage(ByteSpan group_id, uint32_t sender,
                                           uint64_t epoch, ByteSpan message) {
  MIMI_ASSIGN_OR_RETURN(mls::MlsMessage msg, mls::DecodeMlsMessage(message));
  if (msg.content_type() == mls::ContentType::kCommit) {
    return Status(StatusCode::kInvalidArgument, "commit-needs-tree",
                  "commits go to the commit endpoint with their new tree");
  }
  if (!std::equal(group_id.begin(), group_id.end(), msg.group_id().begin(),
                  msg.group_id().end())) {
    return Status(StatusCode::kInvalidArgument, "wrong-group",
                  "the message is for group " + GroupHex(msg.group_id()));
  }
  MIMI_ASSIGN_OR_RETURN(CurrentGroup g, ReadCurrent(group_id));
  if (epoch != g.epoch) return WrongEpoch(epoch, g.epoch);
  // Messages accepted after the export would be left behind at the source.
  if (g.frozen) return FrozenError(group_id);
  if (msg.epoch() != g.epoch) return EpochError("message", msg.epoch(), g.epoch);
  MIMI_RETURN_IF_ERROR(CheckMemberMessage(group_id, g, sender, msg));
  return writer_->Write([&](SQLite::Database& db) -> Result<uint64_t> {
    try {
      if (auto t = LoadTombstone(db, group_id)) return MovedError(*t);
      std::optional<GroupRow> row = LoadGroup(db, group_id);
      if (!row) return UnknownGroup(group_id);
      if (!row->frozen_by.empty()) return FrozenError(group_id);
      if (row->epoch != g.epoch) return WrongEpoch(epoch, row->epoch);
      const uint64_t seq =
          AppendMessage(db, group_id, row->next_seq, row->epoch,
                        msg.content_type(), message, "", clock_.NowMillis());
      return seq;
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: submit message");
    }
  });
}

Result<std::vector<StoredMessage>> EmbeddedDs::FetchMessages(ByteSpan group_id,
                                                             uint64_t after_seq,
                                                             int limit) {
  MutexLock lock(read_mu_);
  try {
    ReadSnapshot snapshot(*reader_);
    if (auto t = LoadTombstone(*reader_, group_id)) return MovedError(*t);
    if (!LoadGroup(*reader_, group_id)) return UnknownGroup(group_id);
    Statement q(
        *reader_,
        "SELECT seq, message FROM ds_messages WHERE group_id = ? AND seq > ?"
        " ORDER BY seq LIMIT ?");
    BindBlob(q, 1, group_id);
    q.bind(2, static_cast<int64_t>(after_seq));
    q.bind(3, limit);
    std::vector<StoredMessage> out;
    while (q.executeStep()) {
      out.push_back({static_cast<uint64_t>(q.getColumn(0).getInt64()),
                     ColumnBytes(q.getColumn(1))});
    }
    return out;
  } catch (...) {
    return store::StatusFromCurrentException("embedded DS: fetch messages");
  }
}

Result<GroupDetails> EmbeddedDs::Details(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  try {
    ReadSnapshot snapshot(*reader_);
    if (auto t = LoadTombstone(*reader_, group_id)) return MovedError(*t);
    std::optional<GroupRow> row = LoadGroup(*reader_, group_id, Blobs::kAll);
    if (!row) return UnknownGroup(group_id);
    GroupDetails d;
    d.summary = Summarize(group_id, *row);
    d.tree_epoch = row->tree_epoch;
    d.last_seq = row->next_seq - 1;
    (void)WalkRatchetTree(row->ratchet_tree,
                          [&d](uint32_t, const mls::LeafNode&, bool*) {
                            d.member_count++;
                            return Status::Ok();
                          });
    return d;
  } catch (...) {
    return store::StatusFromCurrentException("embedded DS: group details");
  }
}

Result<size_t> EmbeddedDs::CountGroups() {
  MutexLock lock(read_mu_);
  try {
    Statement q(*reader_, "SELECT COUNT(*) FROM ds_groups");
    q.executeStep();
    return static_cast<size_t>(q.getColumn(0).getInt64());
  } catch (...) {
    return store::StatusFromCurrentException("embedded DS: count groups");
  }
}

Result<GroupSummary> EmbeddedDs::LookupGroup(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  try {
    ReadSnapshot snapshot(*reader_);
    if (auto t = LoadTombstone(*reader_, group_id)) return MovedError(*t);
    std::optional<GroupRow> row = LoadGroup(*reader_, group_id);
    if (!row) return UnknownGroup(group_id);
    return Summarize(group_id, *row);
  } catch (...) {
    return store::StatusFromCurrentException("embedded DS: lookup group");
  }
}

Result<Tombstone> EmbeddedDs::LookupTombstone(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  try {
    if (auto t = LoadTombstone(*reader_, group_id)) return *t;
    return NotFoundError("no tombstone for group " + GroupHex(group_id));
  } catch (...) {
    return store::StatusFromCurrentException("embedded DS: lookup tombstone");
  }
}

Result<Bytes> EmbeddedDs::MemberSignatureKey(ByteSpan group_id,
                                             uint32_t leaf_index) {
  Bytes tree_bytes;
  {
    MutexLock lock(read_mu_);
    try {
      ReadSnapshot snapshot(*reader_);
      if (auto t = LoadTombstone(*reader_, group_id)) return MovedError(*t);
      std::optional<GroupRow> row = LoadGroup(*reader_, group_id, Blobs::kAll);
      if (!row) return UnknownGroup(group_id);
      tree_bytes = std::move(row->ratchet_tree);
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: member key");
    }
  }
  // The stored tree was checked when it came in: the walk may stop at the
  // leaf it looks for.
  std::optional<Bytes> key;
  MIMI_RETURN_IF_ERROR(WalkRatchetTree(
      tree_bytes, [&key, leaf_index](uint32_t index, const mls::LeafNode& leaf,
                                     bool* stop) {
        if (index == leaf_index) {
          key = leaf.signature_key;
          *stop = true;
        }
        *stop = *stop || index > leaf_index;
        return Status::Ok();
      }));
  if (!key) {
    return Status(StatusCode::kNotFound, "unknown-leaf",
                  "no member at leaf " + std::to_string(leaf_index));
  }
  return *std::move(key);
}

Status EmbeddedDs::Freeze(ByteSpan group_id, uint64_t epoch,
                          std::string_view migration_id) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      if (auto t = LoadTombstone(db, group_id)) return MovedError(*t);
      std::optional<GroupRow> row = LoadGroup(db, group_id);
      if (!row) return UnknownGroup(group_id);
      if (row->frozen_by == migration_id) return Status::Ok();
      if (!row->frozen_by.empty()) {
        return FrozenError(group_id);
      }
      if (row->epoch != epoch) {
        return EpochError("freeze", epoch, row->epoch);
      }
      Statement up(db,
                   "UPDATE ds_groups SET frozen_by = ?, updated_at = ?"
                   " WHERE group_id = ? AND frozen_by IS NULL AND epoch = ?");
      up.bind(1, std::string(migration_id));
      up.bind(2, static_cast<int64_t>(clock_.NowMillis()));
      BindBlob(up, 3, group_id);
      up.bind(4, static_cast<int64_t>(epoch));
      if (up.exec() != 1)
        return InternalError("embedded DS: freeze lost a race under lock");
      return Status::Ok();
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: freeze");
    }
  });
}

Status EmbeddedDs::Unfreeze(ByteSpan group_id, std::string_view migration_id) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      Statement up(db,
                   "UPDATE ds_groups SET frozen_by = NULL, updated_at = ?"
                   " WHERE group_id = ? AND frozen_by = ?");
      up.bind(1, static_cast<int64_t>(clock_.NowMillis()));
      BindBlob(up, 2, group_id);
      up.bind(3, std::string(migration_id));
      up.exec();
      return Status::Ok();
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: unfreeze");
    }
  });
}

Result<Bytes> EmbeddedDs::ExportGroupState(ByteSpan group_id, ByteSpan commit,
                                           std::string_view migration_id) {
  GroupState state;
  {
    MutexLock lock(read_mu_);
    try {
      ReadSnapshot snapshot(*reader_);
      if (auto t = LoadTombstone(*reader_, group_id)) return MovedError(*t);
      std::optional<GroupRow> row = LoadGroup(*reader_, group_id, Blobs::kAll);
      if (!row) return UnknownGroup(group_id);
      if (row->frozen_by != migration_id) {
        return NotFrozenError(group_id, migration_id);
      }
      state.cipher_suite = row->cipher_suite;
      state.group_id.assign(group_id.begin(), group_id.end());
      state.epoch = row->epoch;
      state.group_info = std::move(row->group_info);
      state.ratchet_tree = std::move(row->ratchet_tree);
      state.migration_commit.assign(commit.begin(), commit.end());
      // The group is frozen, so nothing takes a seq before the fan-out: the
      // migration commit gets last_seq + 1 here, and the importer gives it
      // the same (docs/protocol.md §3.7). After the fan-out, the same
      // last_seq: the state is signed into content that may be resent.
      state.last_seq = row->next_seq - 1;
      Statement fanned(*reader_,
                       "SELECT seq FROM ds_messages WHERE group_id = ?"
                       " AND migration_id = ?");
      BindBlob(fanned, 1, group_id);
      fanned.bind(2, std::string(migration_id));
      if (fanned.executeStep()) {
        state.last_seq = static_cast<uint64_t>(fanned.getColumn(0).getInt64()) - 1;
      }
      // The current epoch's messages, without any migration fan-out, so that
      // exporting again after a fan-out yields the same bytes.
      Statement q(*reader_,
                  "SELECT seq, message FROM ds_messages WHERE group_id = ?"
                  " AND epoch = ? AND migration_id IS NULL ORDER BY seq");
      BindBlob(q, 1, group_id);
      q.bind(2, static_cast<int64_t>(row->epoch));
      while (q.executeStep()) {
        state.pending_messages.push_back(
            {static_cast<uint64_t>(q.getColumn(0).getInt64()),
             ColumnBytes(q.getColumn(1))});
      }
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: export");
    }
  }
  return Encode(state);
}

Status EmbeddedDs::ImportGroupState(ByteSpan group_state,
                                    std::string_view migration_id) {
  MIMI_ASSIGN_OR_RETURN(GroupState state, DecodeGroupState(group_state));
  MIMI_RETURN_IF_ERROR(CheckTree(state.ratchet_tree));
  MIMI_ASSIGN_OR_RETURN(mls::MlsMessage commit,
                        mls::DecodeMlsMessage(state.migration_commit));
  if (commit.content_type() != mls::ContentType::kCommit ||
      commit.group_id() != state.group_id || commit.epoch() != state.epoch) {
    return InvalidArgumentError(
        "GroupState.migration_commit: not a commit for this group and epoch");
  }
  // Seqs are SQLite integers (int64), and the group goes on numbering.
  constexpr uint64_t kMaxLastSeq = (uint64_t{1} << 62);
  if (state.last_seq > kMaxLastSeq) {
    return InvalidArgumentError("GroupState.last_seq: " +
                                std::to_string(state.last_seq) +
                                " is beyond what this DS numbers (2^62)");
  }
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      if (std::optional<GroupRow> row = LoadGroup(db, state.group_id)) {
        if (row->imported_by == migration_id) return Status::Ok();
        return Status(
            StatusCode::kAlreadyExists, "group-exists",
            "group " + GroupHex(state.group_id) + " already lives here");
      }
      // A group coming back to a DS it once left: it lives here again.
      Statement del(db, "DELETE FROM ds_tombstones WHERE group_id = ?");
      BindBlob(del, 1, state.group_id);
      del.exec();
      const UnixMillis now = clock_.NowMillis();
      Statement ins(
          db,
          "INSERT INTO ds_groups (group_id, cipher_suite, epoch,"
          " tree_epoch, ratchet_tree, group_info, imported_by, next_seq,"
          " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      BindBlob(ins, 1, state.group_id);
      ins.bind(2, static_cast<int>(state.cipher_suite));
      ins.bind(3, static_cast<int64_t>(state.epoch + 1));
      ins.bind(4, static_cast<int64_t>(state.epoch));
      BindBlob(ins, 5, state.ratchet_tree);
      BindBlob(ins, 6, state.group_info);
      ins.bind(7, std::string(migration_id));
      ins.bind(8, static_cast<int64_t>(state.last_seq + 1));
      ins.bind(9, static_cast<int64_t>(now));
      ins.bind(10, static_cast<int64_t>(now));
      ins.exec();
      // The source's numbering continues here, so that a member fetching
      // with the cursor it had at the source misses nothing: the pending
      // messages keep their seqs (DecodeGroupState checked their order), and
      // the migration commit takes last_seq + 1, its seq at the source's
      // fan-out.
      for (const StoredMessage& m : state.pending_messages) {
        auto decoded = mls::DecodeMlsMessage(m.message);
        const mls::ContentType type = decoded.ok()
                                          ? decoded->content_type()
                                          : mls::ContentType::kApplication;
        AppendMessage(db, state.group_id, m.seq, state.epoch, type, m.message,
                      "", now);
      }
      AppendMessage(db, state.group_id, state.last_seq + 1, state.epoch,
                    mls::ContentType::kCommit, state.migration_commit,
                    migration_id, now);
      return Status::Ok();
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: import");
    }
  });
}

Status EmbeddedDs::FanOutCommit(ByteSpan group_id, ByteSpan commit,
                                std::string_view migration_id) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      std::string tombstone_migration;
      if (auto t = LoadTombstone(db, group_id, &tombstone_migration)) {
        // Fanned out before the purge that left this tombstone.
        if (tombstone_migration == migration_id) return Status::Ok();
        return MovedError(*t);
      }
      std::optional<GroupRow> row = LoadGroup(db, group_id);
      if (!row) return UnknownGroup(group_id);
      if (row->frozen_by != migration_id) {
        return NotFrozenError(group_id, migration_id);
      }
      Statement seen(
          db,
          "SELECT 1 FROM ds_messages WHERE group_id = ? AND migration_id = ?");
      BindBlob(seen, 1, group_id);
      seen.bind(2, std::string(migration_id));
      if (seen.executeStep()) return Status::Ok();
      AppendMessage(db, group_id, row->next_seq, row->epoch,
                    mls::ContentType::kCommit, commit, migration_id,
                    clock_.NowMillis());
      return Status::Ok();
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: fan out");
    }
  });
}

Status EmbeddedDs::DeleteGroup(ByteSpan group_id, const Tombstone& tombstone,
                               std::string_view migration_id) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      std::string tombstone_migration;
      if (LoadTombstone(db, group_id, &tombstone_migration)) {
        if (tombstone_migration == migration_id) return Status::Ok();
        return Status(StatusCode::kFailedPrecondition, "moved",
                      "group already left under another migration");
      }
      std::optional<GroupRow> row = LoadGroup(db, group_id);
      if (!row) return UnknownGroup(group_id);
      if (row->frozen_by != migration_id) {
        return NotFrozenError(group_id, migration_id);
      }
      Statement dm(db, "DELETE FROM ds_messages WHERE group_id = ?");
      BindBlob(dm, 1, group_id);
      dm.exec();
      Statement dg(db, "DELETE FROM ds_groups WHERE group_id = ?");
      BindBlob(dg, 1, group_id);
      dg.exec();
      Statement ins(db,
                    "INSERT INTO ds_tombstones (group_id, moved_to, moved_at,"
                    " confirmation, migration_id) VALUES (?, ?, ?, ?, ?)");
      BindBlob(ins, 1, group_id);
      ins.bind(2, tombstone.moved_to);
      ins.bind(3, static_cast<int64_t>(tombstone.moved_at_ms));
      BindBlob(ins, 4, tombstone.confirmation);
      ins.bind(5, std::string(migration_id));
      ins.exec();
      return Status::Ok();
    } catch (...) {
      return store::StatusFromCurrentException("embedded DS: delete group");
    }
  });
}

}  // namespace mimi::embedded_ds
