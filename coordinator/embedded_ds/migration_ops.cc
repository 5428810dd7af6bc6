// The embedded DS as the coordinator drives it (the DeliveryService
// interface): lookups, freeze, export, import, fan-out and the tombstone a
// purge leaves. Every mutating call is idempotent for its migration id.
#include <algorithm>
#include <span>
#include <utility>

#include "embedded_ds/ds_tables.h"
#include "embedded_ds/embedded_ds.h"
#include "embedded_ds/refusals.h"
#include "embedded_ds/tree_checks.h"
#include "mimi_portability/ds_reason.h"
#include "mimi_portability/group_state.h"
#include "mls/mls_message.h"

namespace mimi::embedded_ds {

Result<GroupSummary> EmbeddedDs::LookupGroup(ByteSpan group_id) {
  return tables_->ReadValue<GroupSummary>(
      "embedded DS: lookup group", [&](DsTx& tx) -> Result<GroupSummary> {
        MIMI_ASSIGN_OR_RETURN(GroupRow row,
                              LoadLiveGroup(tx, group_id, Blobs::kNone));
        return Summarize(group_id, row);
      });
}

Result<Tombstone> EmbeddedDs::LookupTombstone(ByteSpan group_id) {
  return tables_->ReadValue<Tombstone>(
      "embedded DS: lookup tombstone", [&](DsTx& tx) -> Result<Tombstone> {
        MIMI_ASSIGN_OR_RETURN(std::optional<Tombstone> t,
                              tx.LoadTombstone(group_id, nullptr));
        if (t) return *std::move(t);
        return NotFoundError("no tombstone for group " + GroupHex(group_id));
      });
}

Result<Bytes> EmbeddedDs::MemberSignatureKey(ByteSpan group_id,
                                             uint32_t leaf_index) {
  MIMI_ASSIGN_OR_RETURN(
      Bytes tree_bytes,
      tables_->ReadValue<Bytes>(
          "embedded DS: member key", [&](DsTx& tx) -> Result<Bytes> {
            MIMI_ASSIGN_OR_RETURN(GroupRow row,
                                  LoadLiveGroup(tx, group_id, Blobs::kAll));
            return std::move(row.ratchet_tree);
          }));
  MIMI_ASSIGN_OR_RETURN(std::optional<Bytes> key,
                        FindLeafSignatureKey(tree_bytes, leaf_index));
  if (!key) {
    return Status(StatusCode::kNotFound, std::string(ds_reason::kUnknownLeaf),
                  "no member at leaf " + std::to_string(leaf_index));
  }
  return *std::move(key);
}

EmbeddedDs::Body EmbeddedDs::FreezeBody(ByteSpan group_id, uint64_t epoch,
                                        std::string_view migration_id) {
  return [this, group_id, epoch, migration_id](DsTx& tx) -> Status {
    MIMI_RETURN_IF_ERROR(tx.LockGroup(group_id));
    MIMI_ASSIGN_OR_RETURN(GroupRow row,
                          LoadLiveGroup(tx, group_id, Blobs::kNone));
    if (row.frozen_by == migration_id) return Status::Ok();
    if (!row.frozen_by.empty()) return FrozenError(group_id);
    if (row.epoch != epoch) return EpochError("freeze", epoch, row.epoch);
    MIMI_ASSIGN_OR_RETURN(
        bool frozen,
        tx.SetFrozen(group_id, epoch, migration_id, clock_.NowMillis()));
    if (!frozen) {
      return InternalError("embedded DS: freeze lost a race under lock");
    }
    return Status::Ok();
  };
}

Status EmbeddedDs::Freeze(ByteSpan group_id, uint64_t epoch,
                          std::string_view migration_id) {
  return tables_->Write("embedded DS: freeze",
                        FreezeBody(group_id, epoch, migration_id));
}

store::JoinedWrite EmbeddedDs::JoinFreeze(ByteSpan group_id, uint64_t epoch,
                                          std::string_view migration_id) {
  return tables_->Join("embedded DS: freeze",
                       FreezeBody(group_id, epoch, migration_id));
}

Status EmbeddedDs::Unfreeze(ByteSpan group_id, std::string_view migration_id) {
  return tables_->Write("embedded DS: unfreeze", [&](DsTx& tx) -> Status {
    MIMI_RETURN_IF_ERROR(tx.LockGroup(group_id));
    return tx.ClearFrozen(group_id, migration_id, clock_.NowMillis());
  });
}

Result<Bytes> EmbeddedDs::ExportGroupState(ByteSpan group_id, ByteSpan commit,
                                           std::string_view migration_id) {
  return tables_->ReadValue<Bytes>(
      "embedded DS: export", [&](DsTx& tx) -> Result<Bytes> {
        // The tree is not loaded here: it is read into the encoding below.
        MIMI_ASSIGN_OR_RETURN(GroupRow row,
                              LoadLiveGroup(tx, group_id, Blobs::kGroupInfo));
        if (row.frozen_by != migration_id) {
          return NotFrozenError(group_id, migration_id);
        }
        GroupState state;
        state.cipher_suite = row.cipher_suite;
        state.group_id.assign(group_id.begin(), group_id.end());
        state.epoch = row.epoch;
        state.group_info = std::move(row.group_info);
        state.migration_commit.assign(commit.begin(), commit.end());
        // The group is frozen, so nothing takes a seq before the fan-out:
        // the migration commit gets last_seq + 1 here, and the importer
        // gives it the same (docs/protocol.md §3.7). After the fan-out, the
        // same last_seq: the state is signed into content that may be
        // resent.
        state.last_seq = row.next_seq - 1;
        MIMI_ASSIGN_OR_RETURN(std::optional<uint64_t> fanned,
                              tx.FanOutSeq(group_id, migration_id));
        if (fanned) state.last_seq = *fanned - 1;
        // The current epoch's messages, without any migration fan-out, so
        // that exporting again after a fan-out yields the same bytes.
        MIMI_ASSIGN_OR_RETURN(state.pending_messages,
                              tx.PendingMessages(group_id, row.epoch));
        // The tree goes from storage straight into its place in the
        // encoding (tens of MiB for a large group: held once, not also as
        // a column value and a copy), in this snapshot.
        MIMI_ASSIGN_OR_RETURN(std::optional<size_t> tree_size,
                              tx.TreeSize(group_id));
        if (!tree_size) return UnknownGroup(group_id);
        // Room for the source to wrap the state into its MigrationContent
        // in place (protocol/sign.h, SignAndEncodeContent).
        constexpr size_t kContentRoom = 4096;
        return EncodeWithTree(
            state, *tree_size,
            [&](std::span<uint8_t> out) -> Status {
              return tx.ReadTree(group_id, out);
            },
            kContentRoom);
      });
}

Result<EmbeddedDs::Body> EmbeddedDs::ImportBody(ByteSpan group_state,
                                                std::string_view migration_id) {
  // Views into `group_state`: the tree is checked and stored from the
  // received bytes, never copied (tens of MiB for a large group).
  MIMI_ASSIGN_OR_RETURN(GroupStateView state, DecodeGroupStateView(group_state));
  MIMI_RETURN_IF_ERROR(CheckTree(state.ratchet_tree));
  MIMI_ASSIGN_OR_RETURN(mls::MlsMessage commit,
                        mls::DecodeMlsMessage(state.migration_commit));
  if (commit.content_type() != mls::ContentType::kCommit ||
      !std::ranges::equal(commit.group_id(), state.group_id) ||
      commit.epoch() != state.epoch) {
    return InvalidArgumentError(
        "GroupState.migration_commit: not a commit for this group and epoch");
  }
  // Seqs are int64 in both engines, and the group goes on numbering.
  constexpr uint64_t kMaxLastSeq = (uint64_t{1} << 62);
  if (state.last_seq > kMaxLastSeq) {
    return InvalidArgumentError(
        "GroupState.last_seq: " + std::to_string(state.last_seq) +
        " is beyond what this DS numbers (2^62)");
  }
  return Body(
      [this, state = std::move(state), migration_id](DsTx& tx) -> Status {
        MIMI_RETURN_IF_ERROR(tx.LockGroup(state.group_id));
        MIMI_ASSIGN_OR_RETURN(std::optional<GroupRow> row,
                              tx.LoadGroup(state.group_id, Blobs::kNone));
        if (row) {
          if (row->imported_by == migration_id) return Status::Ok();
          return GroupExists(state.group_id);
        }
        // A group coming back to a DS it once left: it lives here again.
        MIMI_RETURN_IF_ERROR(tx.DeleteTombstone(state.group_id));
        const UnixMillis now = clock_.NowMillis();
        GroupRow group;
        group.cipher_suite = state.cipher_suite;
        group.epoch = state.epoch + 1;
        group.tree_epoch = state.epoch;
        group.imported_by = std::string(migration_id);
        group.next_seq = state.last_seq + 1;
        MIMI_RETURN_IF_ERROR(tx.InsertGroup(
            state.group_id, group, state.group_info, state.ratchet_tree, now));
        // The source's numbering continues here, so that a member fetching with
        // the cursor it had at the source misses nothing: the pending messages
        // keep their seqs (DecodeGroupState checked their order), and the
        // migration commit takes last_seq + 1, its seq at the source's fan-out.
        for (const StoredMessageView& m : state.pending_messages) {
          auto decoded = mls::DecodeMlsMessage(m.message);
          const mls::ContentType type = decoded.ok()
                                            ? decoded->content_type()
                                            : mls::ContentType::kApplication;
          MIMI_RETURN_IF_ERROR(tx.AppendMessage(
              state.group_id, m.seq, state.epoch, type, m.message, "", now));
        }
        return tx.AppendMessage(state.group_id, state.last_seq + 1, state.epoch,
                                mls::ContentType::kCommit,
                                state.migration_commit, migration_id, now);
      });
}

Status EmbeddedDs::ImportGroupState(ByteSpan group_state,
                                    std::string_view migration_id) {
  MIMI_ASSIGN_OR_RETURN(Body body, ImportBody(group_state, migration_id));
  return tables_->Write("embedded DS: import", body);
}

Result<store::JoinedWrite> EmbeddedDs::JoinImportGroupState(
    ByteSpan group_state, std::string_view migration_id) {
  MIMI_ASSIGN_OR_RETURN(Body body, ImportBody(group_state, migration_id));
  return tables_->Join("embedded DS: import", std::move(body));
}

EmbeddedDs::Body EmbeddedDs::FanOutBody(ByteSpan group_id, ByteSpan commit,
                                        std::string_view migration_id) {
  return [this, group_id, commit, migration_id](DsTx& tx) -> Status {
    MIMI_RETURN_IF_ERROR(tx.LockGroup(group_id));
    std::string tombstone_migration;
    MIMI_ASSIGN_OR_RETURN(std::optional<Tombstone> t,
                          tx.LoadTombstone(group_id, &tombstone_migration));
    if (t) {
      // Fanned out before the purge that left this tombstone.
      if (tombstone_migration == migration_id) return Status::Ok();
      return MovedError(*t);
    }
    MIMI_ASSIGN_OR_RETURN(std::optional<GroupRow> row,
                          tx.LoadGroup(group_id, Blobs::kNone));
    if (!row) return UnknownGroup(group_id);
    if (row->frozen_by != migration_id) {
      return NotFrozenError(group_id, migration_id);
    }
    MIMI_ASSIGN_OR_RETURN(std::optional<uint64_t> seen,
                          tx.FanOutSeq(group_id, migration_id));
    if (seen) return Status::Ok();
    return tx.AppendMessage(group_id, row->next_seq, row->epoch,
                            mls::ContentType::kCommit, commit, migration_id,
                            clock_.NowMillis());
  };
}

Status EmbeddedDs::FanOutCommit(ByteSpan group_id, ByteSpan commit,
                                std::string_view migration_id) {
  return tables_->Write("embedded DS: fan out",
                        FanOutBody(group_id, commit, migration_id));
}

store::JoinedWrite EmbeddedDs::JoinFanOutCommit(ByteSpan group_id,
                                                ByteSpan commit,
                                                std::string_view migration_id) {
  return tables_->Join("embedded DS: fan out",
                       FanOutBody(group_id, commit, migration_id));
}

EmbeddedDs::Body EmbeddedDs::DeleteGroupBody(ByteSpan group_id,
                                             const Tombstone& tombstone,
                                             std::string_view migration_id) {
  return [group_id, tombstone, migration_id](DsTx& tx) -> Status {
    MIMI_RETURN_IF_ERROR(tx.LockGroup(group_id));
    std::string tombstone_migration;
    MIMI_ASSIGN_OR_RETURN(std::optional<Tombstone> t,
                          tx.LoadTombstone(group_id, &tombstone_migration));
    if (t) {
      if (tombstone_migration == migration_id) return Status::Ok();
      return MovedUnderAnotherMigration(group_id);
    }
    MIMI_ASSIGN_OR_RETURN(std::optional<GroupRow> row,
                          tx.LoadGroup(group_id, Blobs::kNone));
    if (!row) return UnknownGroup(group_id);
    if (row->frozen_by != migration_id) {
      return NotFrozenError(group_id, migration_id);
    }
    MIMI_RETURN_IF_ERROR(tx.DeleteGroupRows(group_id));
    Tombstone stored = tombstone;
    stored.group_id.assign(group_id.begin(), group_id.end());
    return tx.InsertTombstone(stored, migration_id);
  };
}

Status EmbeddedDs::DeleteGroup(ByteSpan group_id, const Tombstone& tombstone,
                               std::string_view migration_id) {
  return tables_->Write("embedded DS: delete group",
                        DeleteGroupBody(group_id, tombstone, migration_id));
}

store::JoinedWrite EmbeddedDs::JoinDeleteGroup(ByteSpan group_id,
                                               const Tombstone& tombstone,
                                               std::string_view migration_id) {
  return tables_->Join("embedded DS: delete group",
                       DeleteGroupBody(group_id, tombstone, migration_id));
}

}  // namespace mimi::embedded_ds
