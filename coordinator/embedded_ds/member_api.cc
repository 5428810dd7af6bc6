// The embedded DS's member API (docs/ds-api.md): create a group, submit a
// commit or a message, fetch messages, and the reads behind them.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <utility>

#include "embedded_ds/ds_tables.h"
#include "embedded_ds/embedded_ds.h"
#include "embedded_ds/refusals.h"
#include "embedded_ds/tree_checks.h"
#include "mls/group_info.h"
#include "mls/mls_message.h"
#include "mls/signature_checks.h"
#include "store/sqlite_blob.h"
#include "store/sqlite_status.h"

namespace mimi::embedded_ds {

using SQLite::Statement;
using store::BindBlob;
using store::ColumnBytes;
using store::Guarded;

Result<GroupSummary> EmbeddedDs::CreateGroup(ByteSpan group_info_message,
                                             ByteSpan ratchet_tree) {
  MIMI_ASSIGN_OR_RETURN(mls::GroupInfo info,
                        mls::DecodeGroupInfoMessage(group_info_message));
  const mls::GroupContext& ctx = info.group_context;
  const size_t max_id = max_group_id_bytes_.load(std::memory_order_relaxed);
  if (ctx.group_id.size() > max_id) {
    return Status(StatusCode::kInvalidArgument, "group-id-too-long",
                  "the group id has " + std::to_string(ctx.group_id.size()) +
                      " bytes; this DS takes at most " +
                      std::to_string(max_id));
  }
  // The stored GroupInfo is what the next commit's signature is checked
  // against, so it must be this tree's and signed by one of its members.
  MIMI_RETURN_IF_ERROR(
      CheckGroupInfo(group_info_message, ratchet_tree).status());
  return writer_->Write([&](SQLite::Database& db) -> Result<GroupSummary> {
    return Guarded("embedded DS: create group", [&]() -> Result<GroupSummary> {
      if (auto t = LoadTombstone(db, ctx.group_id)) return MovedError(*t);
      if (LoadGroup(db, ctx.group_id)) return GroupExists(ctx.group_id);
      GroupRow row;
      row.cipher_suite = ctx.cipher_suite;
      row.epoch = ctx.epoch;
      row.tree_epoch = ctx.epoch;
      row.next_seq = 1;
      InsertGroup(db, ctx.group_id, row, group_info_message, ratchet_tree,
                  clock_.NowMillis());
      return Summarize(ctx.group_id, row);
    });
  });
}

Status EmbeddedDs::AuthenticateMember(const MemberRequest& req) {
  MIMI_ASSIGN_OR_RETURN(CurrentGroup g, ReadCurrent(req.group_id));
  if (req.epoch != g.epoch) return WrongEpoch(req.epoch, g.epoch);
  MIMI_ASSIGN_OR_RETURN(
      Bytes key, LeafSignatureKey(g.ratchet_tree, req.sender, kSenderHeader));
  return VerifyMemberRequest(g.cipher_suite, key, req);
}

Status EmbeddedDs::CheckMemberMessage(ByteSpan group_id, const CurrentGroup& g,
                                      uint32_t sender,
                                      const mls::MlsMessage& msg) {
  if (!msg.public_message)
    return Status::Ok();  // sealed: framing is all a DS sees
  const mls::PublicMessage& pm = *msg.public_message;
  if (pm.sender.type != mls::SenderType::kMember || pm.sender.index != sender) {
    return Status(StatusCode::kPermissionDenied, "sender-mismatch",
                  "the PublicMessage is from " +
                      std::string(mls::SenderTypeName(pm.sender.type)) + " " +
                      std::to_string(pm.sender.index) +
                      ", not from MIMI-Sender " + std::to_string(sender));
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
  MIMI_ASSIGN_OR_RETURN(Bytes key,
                        LeafSignatureKey(g.ratchet_tree, sender, "sender"));
  Status verified = mls::VerifyPublicMessageSignature(
      g.cipher_suite, pm, stored->group_context_bytes, key);
  if (!verified.ok()) {
    return Status(StatusCode::kBadSignature, "bad-signature",
                  verified.detail());
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
    return BadGroupInfo(
        "group_info: the GroupInfo of the new epoch is required");
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
                        GroupHex(group_id) + " epoch " +
                        std::to_string(g.epoch + 1) + " suite " +
                        std::to_string(g.cipher_suite));
  }
  return writer_->Write([&](SQLite::Database& db) -> Result<uint64_t> {
    return Guarded("embedded DS: submit commit", [&]() -> Result<uint64_t> {
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
      Statement up(db,
                   "UPDATE ds_groups SET epoch = ?, updated_at = ?"
                   " WHERE group_id = ? AND epoch = ?");
      up.bind(1, static_cast<int64_t>(row->epoch + 1));
      up.bind(2, static_cast<int64_t>(now));
      BindBlob(up, 3, group_id);
      up.bind(4, static_cast<int64_t>(row->epoch));
      if (up.exec() != 1)
        return InternalError("embedded DS: epoch moved under lock");
      // A commit is the one change that replaces the tree.
      Statement tree(db,
                     "UPDATE ds_group_trees SET tree_epoch = ?, group_info = ?,"
                     " ratchet_tree = ? WHERE group_id = ?");
      tree.bind(1, static_cast<int64_t>(row->epoch + 1));
      BindBlob(tree, 2, new_group_info);
      BindBlob(tree, 3, new_ratchet_tree);
      BindBlob(tree, 4, group_id);
      if (tree.exec() != 1)
        return InternalError("embedded DS: the group has no tree row");
      return seq;
    });
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
  if (msg.epoch() != g.epoch)
    return EpochError("message", msg.epoch(), g.epoch);
  MIMI_RETURN_IF_ERROR(CheckMemberMessage(group_id, g, sender, msg));
  return writer_->Write([&](SQLite::Database& db) -> Result<uint64_t> {
    return Guarded("embedded DS: submit message", [&]() -> Result<uint64_t> {
      if (auto t = LoadTombstone(db, group_id)) return MovedError(*t);
      std::optional<GroupRow> row = LoadGroup(db, group_id);
      if (!row) return UnknownGroup(group_id);
      if (!row->frozen_by.empty()) return FrozenError(group_id);
      if (row->epoch != g.epoch) return WrongEpoch(epoch, row->epoch);
      const uint64_t seq =
          AppendMessage(db, group_id, row->next_seq, row->epoch,
                        msg.content_type(), message, "", clock_.NowMillis());
      return seq;
    });
  });
}

Result<std::vector<StoredMessage>> EmbeddedDs::FetchMessages(ByteSpan group_id,
                                                             uint64_t after_seq,
                                                             int limit) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded(
      "embedded DS: fetch messages",
      [&]() -> Result<std::vector<StoredMessage>> {
        ReadSnapshot snapshot(reader);
        if (auto t = LoadTombstone(reader, group_id)) return MovedError(*t);
        if (!LoadGroup(reader, group_id)) return UnknownGroup(group_id);
        Statement q(reader,
                    "SELECT seq, message FROM ds_messages WHERE group_id = ? "
                    "AND seq > ?"
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
      });
}

Result<GroupDetails> EmbeddedDs::Details(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("embedded DS: group details", [&]() -> Result<GroupDetails> {
    ReadSnapshot snapshot(reader);
    if (auto t = LoadTombstone(reader, group_id)) return MovedError(*t);
    std::optional<GroupRow> row = LoadGroup(reader, group_id, Blobs::kAll);
    if (!row) return UnknownGroup(group_id);
    GroupDetails d;
    d.summary = Summarize(group_id, *row);
    d.tree_epoch = row->tree_epoch;
    d.last_seq = row->next_seq - 1;
    d.member_count = CountMembers(row->ratchet_tree);
    return d;
  });
}

Result<size_t> EmbeddedDs::CountGroups() {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("embedded DS: count groups", [&]() -> Result<size_t> {
    Statement q(reader, "SELECT COUNT(*) FROM ds_groups");
    q.executeStep();
    return static_cast<size_t>(q.getColumn(0).getInt64());
  });
}

}  // namespace mimi::embedded_ds
