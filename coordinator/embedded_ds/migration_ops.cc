// The embedded DS as the coordinator drives it (the DeliveryService
// interface): lookups, freeze, export, import, fan-out and the tombstone a
// purge leaves. Every mutating call is idempotent for its migration id.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

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
#include "store/sqlite_blob.h"
#include "store/sqlite_status.h"

namespace mimi::embedded_ds {

using SQLite::Statement;
using store::BindBlob;
using store::ReadBlob;
using store::ColumnBytes;
using store::Guarded;

Result<GroupSummary> EmbeddedDs::LookupGroup(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("embedded DS: lookup group", [&]() -> Result<GroupSummary> {
    ReadSnapshot snapshot(reader);
    if (auto t = LoadTombstone(reader, group_id)) return MovedError(*t);
    std::optional<GroupRow> row = LoadGroup(reader, group_id);
    if (!row) return UnknownGroup(group_id);
    return Summarize(group_id, *row);
  });
}

Result<Tombstone> EmbeddedDs::LookupTombstone(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return Guarded("embedded DS: lookup tombstone", [&]() -> Result<Tombstone> {
    if (auto t = LoadTombstone(reader, group_id)) return *t;
    return NotFoundError("no tombstone for group " + GroupHex(group_id));
  });
}

Result<Bytes> EmbeddedDs::MemberSignatureKey(ByteSpan group_id,
                                             uint32_t leaf_index) {
  Bytes tree_bytes;
  {
    MutexLock lock(read_mu_);
    SQLite::Database& reader = *reader_;
    MIMI_RETURN_IF_ERROR(Guarded("embedded DS: member key", [&]() -> Status {
      ReadSnapshot snapshot(reader);
      if (auto t = LoadTombstone(reader, group_id)) return MovedError(*t);
      std::optional<GroupRow> row = LoadGroup(reader, group_id, Blobs::kAll);
      if (!row) return UnknownGroup(group_id);
      tree_bytes = std::move(row->ratchet_tree);
      return Status::Ok();
    }));
  }
  MIMI_ASSIGN_OR_RETURN(std::optional<Bytes> key,
                        FindLeafSignatureKey(tree_bytes, leaf_index));
  if (!key) {
    return Status(StatusCode::kNotFound, std::string(ds_reason::kUnknownLeaf),
                  "no member at leaf " + std::to_string(leaf_index));
  }
  return *std::move(key);
}

Status EmbeddedDs::Freeze(ByteSpan group_id, uint64_t epoch,
                          std::string_view migration_id) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("embedded DS: freeze", [&]() -> Status {
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
    });
  });
}

Status EmbeddedDs::Unfreeze(ByteSpan group_id, std::string_view migration_id) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("embedded DS: unfreeze", [&] {
      Statement up(db,
                   "UPDATE ds_groups SET frozen_by = NULL, updated_at = ?"
                   " WHERE group_id = ? AND frozen_by = ?");
      up.bind(1, static_cast<int64_t>(clock_.NowMillis()));
      BindBlob(up, 2, group_id);
      up.bind(3, std::string(migration_id));
      up.exec();
      return Status::Ok();
    });
  });
}

Result<Bytes> EmbeddedDs::ExportGroupState(ByteSpan group_id, ByteSpan commit,
                                           std::string_view migration_id) {
  GroupState state;
  Bytes encoded;
  {
    MutexLock lock(read_mu_);
    SQLite::Database& reader = *reader_;
    MIMI_RETURN_IF_ERROR(Guarded("embedded DS: export", [&]() -> Status {
      ReadSnapshot snapshot(reader);
      if (auto t = LoadTombstone(reader, group_id)) return MovedError(*t);
      // The tree is not loaded here: it is read into the encoding below.
      std::optional<GroupRow> row =
          LoadGroup(reader, group_id, Blobs::kGroupInfo);
      if (!row) return UnknownGroup(group_id);
      if (row->frozen_by != migration_id) {
        return NotFrozenError(group_id, migration_id);
      }
      state.cipher_suite = row->cipher_suite;
      state.group_id.assign(group_id.begin(), group_id.end());
      state.epoch = row->epoch;
      state.group_info = std::move(row->group_info);
      state.migration_commit.assign(commit.begin(), commit.end());
      // The group is frozen, so nothing takes a seq before the fan-out: the
      // migration commit gets last_seq + 1 here, and the importer gives it
      // the same (docs/protocol.md §3.7). After the fan-out, the same
      // last_seq: the state is signed into content that may be resent.
      state.last_seq = row->next_seq - 1;
      Statement fanned(reader,
                       "SELECT seq FROM ds_messages WHERE group_id = ?"
                       " AND migration_id = ?");
      BindBlob(fanned, 1, group_id);
      fanned.bind(2, std::string(migration_id));
      if (fanned.executeStep()) {
        state.last_seq =
            static_cast<uint64_t>(fanned.getColumn(0).getInt64()) - 1;
      }
      // The current epoch's messages, without any migration fan-out, so that
      // exporting again after a fan-out yields the same bytes.
      Statement q(reader,
                  "SELECT seq, message FROM ds_messages WHERE group_id = ?"
                  " AND epoch = ? AND migration_id IS NULL ORDER BY seq");
      BindBlob(q, 1, group_id);
      q.bind(2, static_cast<int64_t>(row->epoch));
      while (q.executeStep()) {
        state.pending_messages.push_back(
            {static_cast<uint64_t>(q.getColumn(0).getInt64()),
             ColumnBytes(q.getColumn(1))});
      }
      // The tree goes from its blob straight into its place in the
      // encoding (tens of MiB for a large group: held once, not also as a
      // column value and a copy), in this snapshot.
      Statement tree(reader,
                     "SELECT rowid, length(ratchet_tree) FROM ds_group_trees"
                     " WHERE group_id = ?");
      BindBlob(tree, 1, group_id);
      if (!tree.executeStep()) return UnknownGroup(group_id);
      const int64_t tree_rowid = tree.getColumn(0).getInt64();
      const auto tree_size = static_cast<size_t>(tree.getColumn(1).getInt64());
      // Room for the source to wrap the state into its MigrationContent in
      // place (protocol/sign.h, SignAndEncodeContent).
      constexpr size_t kContentRoom = 4096;
      MIMI_ASSIGN_OR_RETURN(
          encoded,
          EncodeWithTree(
              state, tree_size,
              [&](std::span<uint8_t> out) -> Status {
                ReadBlob(reader, "ds_group_trees", "ratchet_tree", tree_rowid,
                         out);
                return Status::Ok();
              },
              kContentRoom));
      return Status::Ok();
    }));
  }
  return encoded;
}

Status EmbeddedDs::ImportGroupState(ByteSpan group_state,
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
  // Seqs are SQLite integers (int64), and the group goes on numbering.
  constexpr uint64_t kMaxLastSeq = (uint64_t{1} << 62);
  if (state.last_seq > kMaxLastSeq) {
    return InvalidArgumentError(
        "GroupState.last_seq: " + std::to_string(state.last_seq) +
        " is beyond what this DS numbers (2^62)");
  }
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("embedded DS: import", [&]() -> Status {
      if (std::optional<GroupRow> row = LoadGroup(db, state.group_id)) {
        if (row->imported_by == migration_id) return Status::Ok();
        return GroupExists(state.group_id);
      }
      // A group coming back to a DS it once left: it lives here again.
      Statement del(db, "DELETE FROM ds_tombstones WHERE group_id = ?");
      BindBlob(del, 1, state.group_id);
      del.exec();
      const UnixMillis now = clock_.NowMillis();
      GroupRow group;
      group.cipher_suite = state.cipher_suite;
      group.epoch = state.epoch + 1;
      group.tree_epoch = state.epoch;
      group.imported_by = std::string(migration_id);
      group.next_seq = state.last_seq + 1;
      InsertGroup(db, state.group_id, group, state.group_info,
                  state.ratchet_tree, now);
      // The source's numbering continues here, so that a member fetching
      // with the cursor it had at the source misses nothing: the pending
      // messages keep their seqs (DecodeGroupState checked their order), and
      // the migration commit takes last_seq + 1, its seq at the source's
      // fan-out.
      for (const StoredMessageView& m : state.pending_messages) {
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
    });
  });
}

Status EmbeddedDs::FanOutCommit(ByteSpan group_id, ByteSpan commit,
                                std::string_view migration_id) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("embedded DS: fan out", [&]() -> Status {
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
    });
  });
}

Status EmbeddedDs::DeleteGroup(ByteSpan group_id, const Tombstone& tombstone,
                               std::string_view migration_id) {
  return writer_->Write([&](SQLite::Database& db) -> Status {
    return Guarded("embedded DS: delete group", [&]() -> Status {
      std::string tombstone_migration;
      if (LoadTombstone(db, group_id, &tombstone_migration)) {
        if (tombstone_migration == migration_id) return Status::Ok();
        return MovedUnderAnotherMigration(group_id);
      }
      std::optional<GroupRow> row = LoadGroup(db, group_id);
      if (!row) return UnknownGroup(group_id);
      if (row->frozen_by != migration_id) {
        return NotFrozenError(group_id, migration_id);
      }
      DeleteGroupRows(db, group_id);
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
    });
  });
}

}  // namespace mimi::embedded_ds
