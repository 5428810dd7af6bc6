// The embedded DS's member API (docs/ds-api.md): create a group, submit a
// commit or a message, fetch messages, and the reads behind them.
#include <algorithm>
#include <utility>

#include "embedded_ds/ds_tables.h"
#include "embedded_ds/embedded_ds.h"
#include "embedded_ds/refusals.h"
#include "embedded_ds/tree_checks.h"
#include "mls/group_info.h"
#include "mls/mls_message.h"
#include "mls/signature_checks.h"

namespace mimi::embedded_ds {

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
  return tables_->WriteValue<GroupSummary>(
      "embedded DS: create group", [&](DsTx& tx) -> Result<GroupSummary> {
        MIMI_RETURN_IF_ERROR(tx.LockGroup(ctx.group_id));
        MIMI_ASSIGN_OR_RETURN(std::optional<Tombstone> t,
                              tx.LoadTombstone(ctx.group_id, nullptr));
        if (t) return MovedError(*t);
        MIMI_ASSIGN_OR_RETURN(std::optional<GroupRow> existing,
                              tx.LoadGroup(ctx.group_id, Blobs::kNone));
        if (existing) return GroupExists(ctx.group_id);
        GroupRow row;
        row.cipher_suite = ctx.cipher_suite;
        row.epoch = ctx.epoch;
        row.tree_epoch = ctx.epoch;
        row.next_seq = 1;
        MIMI_RETURN_IF_ERROR(tx.InsertGroup(ctx.group_id, row,
                                            group_info_message, ratchet_tree,
                                            clock_.NowMillis()));
        return Summarize(ctx.group_id, row);
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
  return tables_->WriteValue<uint64_t>(
      "embedded DS: submit commit", [&](DsTx& tx) -> Result<uint64_t> {
        MIMI_RETURN_IF_ERROR(tx.LockGroup(group_id));
        MIMI_ASSIGN_OR_RETURN(GroupRow row,
                              LoadLiveGroup(tx, group_id, Blobs::kNone));
        if (!row.frozen_by.empty()) return FrozenError(group_id);
        // What was checked above holds only for the epoch it was read at.
        if (row.epoch != g.epoch) return WrongEpoch(epoch, row.epoch);
        const UnixMillis now = clock_.NowMillis();
        const uint64_t seq = row.next_seq;
        MIMI_RETURN_IF_ERROR(tx.AppendMessage(group_id, seq, row.epoch,
                                              mls::ContentType::kCommit, commit,
                                              "", now));
        MIMI_ASSIGN_OR_RETURN(bool advanced,
                              tx.AdvanceEpoch(group_id, row.epoch, now));
        if (!advanced) {
          return InternalError("embedded DS: epoch moved under lock");
        }
        MIMI_ASSIGN_OR_RETURN(bool replaced,
                              tx.ReplaceTree(group_id, row.epoch + 1,
                                             new_group_info, new_ratchet_tree));
        if (!replaced) {
          return InternalError("embedded DS: the group has no tree row");
        }
        return seq;
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
  return tables_->WriteValue<uint64_t>(
      "embedded DS: submit message", [&](DsTx& tx) -> Result<uint64_t> {
        MIMI_RETURN_IF_ERROR(tx.LockGroup(group_id));
        MIMI_ASSIGN_OR_RETURN(GroupRow row,
                              LoadLiveGroup(tx, group_id, Blobs::kNone));
        if (!row.frozen_by.empty()) return FrozenError(group_id);
        if (row.epoch != g.epoch) return WrongEpoch(epoch, row.epoch);
        const uint64_t seq = row.next_seq;
        MIMI_RETURN_IF_ERROR(tx.AppendMessage(group_id, seq, row.epoch,
                                              msg.content_type(), message, "",
                                              clock_.NowMillis()));
        return seq;
      });
}

Result<std::vector<StoredMessage>> EmbeddedDs::FetchMessages(ByteSpan group_id,
                                                             uint64_t after_seq,
                                                             int limit) {
  return tables_->ReadValue<std::vector<StoredMessage>>(
      "embedded DS: fetch messages",
      [&](DsTx& tx) -> Result<std::vector<StoredMessage>> {
        MIMI_ASSIGN_OR_RETURN(GroupRow row,
                              LoadLiveGroup(tx, group_id, Blobs::kNone));
        return tx.Messages(group_id, after_seq, limit);
      });
}

Result<GroupDetails> EmbeddedDs::Details(ByteSpan group_id) {
  return tables_->ReadValue<GroupDetails>(
      "embedded DS: group details", [&](DsTx& tx) -> Result<GroupDetails> {
        MIMI_ASSIGN_OR_RETURN(GroupRow row,
                              LoadLiveGroup(tx, group_id, Blobs::kAll));
        GroupDetails d;
        d.summary = Summarize(group_id, row);
        d.tree_epoch = row.tree_epoch;
        d.last_seq = row.next_seq - 1;
        d.member_count = CountMembers(row.ratchet_tree);
        return d;
      });
}

Result<size_t> EmbeddedDs::CountGroups() {
  return tables_->ReadValue<size_t>(
      "embedded DS: count groups",
      [&](DsTx& tx) -> Result<size_t> { return tx.CountGroups(); });
}

}  // namespace mimi::embedded_ds
