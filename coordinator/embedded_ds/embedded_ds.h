// EmbeddedDs: the reference Delivery Service that ships inside mimi-portd, so
// that the coordinator runs anywhere with nothing else installed. It keeps
// groups, their ratchet trees and their messages in the daemon's database,
// SQLite or PostgreSQL (tables ds_*, created by
// migrations/0002_embedded_ds.sql), implements the
// DeliveryService interface the coordinator drives, and offers members the
// few operations of a DS: create a group, submit a commit with its new tree,
// submit a message, fetch messages in order.
//
// What it checks is what a DS can check without group secrets: framing,
// group, epoch (a commit is accepted only at the current epoch, then the
// epoch advances), freeze, tombstones ("moved"), and who is asking
// (docs/protocol.md, "Member API authentication"): a member request is
// signed with the sender's leaf key (AuthenticateMember); a PublicMessage
// must come from that sender and verify under the GroupContext of the
// current epoch; a commit brings the GroupInfo of the next epoch, which must
// name the new tree by its tree hash and be signed by one of its members.
// It cannot check PrivateMessages beyond their clear header.
//
// After an import, the group is at the migration commit's epoch + 1 while its
// stored tree is the one of the epoch before (the commit's effect on the tree
// is known to members only); the next commit brings a fresh tree.
// tree_epoch says which epoch the tree belongs to.
//
// Thread-safe. Every write is one transaction on the tables (ds_tables.h),
// durable when it returns; reads see one committed state. On SQLite the
// writes are jobs of a store::SqliteWriter (in the daemon, the one the store
// writes through, so that their writes share commits) and reads use the
// DS's own connection (sqlite_ds_tables.h); on PostgreSQL both run on a
// pool of connections, and several instances on one database may serve the
// same DS at once (pg_ds_tables.h): writers of one group take turns.
//
// The implementation is split by concern: opening (embedded_ds.cc), the
// member API (member_api.cc), the DeliveryService operations
// (migration_ops.cc), over the tables (ds_tables.h, one implementation per
// engine), the tree checks (tree_checks.h) and the shared refusals
// (refusals.h). Neither engine's client library is in this header.
#ifndef MIMI_EMBEDDED_DS_EMBEDDED_DS_H_
#define MIMI_EMBEDDED_DS_EMBEDDED_DS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "embedded_ds/member_request.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/delivery_service.h"
#include "mimi_portability/group_state.h"
#include "store/joined_write.h"
#include "store/sqlite_writer.h"

namespace mimi::store::pg {
class PgPool;
}  // namespace mimi::store::pg

namespace mimi::mls {
struct MlsMessage;
}  // namespace mimi::mls

namespace mimi::embedded_ds {

class DsTables;
class DsTx;

struct GroupDetails {
  GroupSummary summary;
  uint64_t tree_epoch = 0;
  uint32_t member_count = 0;
  uint64_t last_seq = 0;
};

class EmbeddedDs final : public DeliveryService, public store::JoinableDs {
 public:
  // Opens the daemon's database file, whose schema the store has already
  // brought up to date (the ds_* tables must exist), with a writer of its
  // own.
  static Result<std::unique_ptr<EmbeddedDs>> Open(const std::string& db_path,
                                                  const Clock& clock);
  // Writes through `writer`, shared with the store on the same file.
  static Result<std::unique_ptr<EmbeddedDs>> Open(
      std::shared_ptr<store::SqliteWriter> writer, const Clock& clock);
  // On a PostgreSQL database whose schema the store has brought up to date,
  // through `pool` (the store's, or one of its own).
  static Result<std::unique_ptr<EmbeddedDs>> Open(
      std::shared_ptr<store::pg::PgPool> pool, const Clock& clock);

  ~EmbeddedDs() override;

  // --- member-facing operations (HTTP /ds/v1/, see ds_routes.h) ---

  // The longest group id CreateGroup accepts (ds.max_group_id_bytes);
  // default 256.
  void SetMaxGroupIdBytes(size_t n);

  // Checks a member request's headers and signature against the group as
  // it is now: unknown-group, moved, wrong-epoch (MIMI-Epoch is not the
  // current epoch), not-a-member (blank or absent leaf), bad-signature.
  // Reads only.
  Status AuthenticateMember(const MemberRequest& req);

  // Creates a group from its GroupInfo (MLSMessage) and ratchet tree. The
  // GroupInfo must name the tree (tree-hash-mismatch) and be signed by one of
  // its members (bad-signature); the group id is bounded (group-id-too-long).
  // kAlreadyExists "group-exists" if it lives here; "moved" if it left.
  Result<GroupSummary> CreateGroup(ByteSpan group_info_message,
                                   ByteSpan ratchet_tree);
  // Accepts a commit at the current epoch from member `sender`, who the
  // caller authenticated at `epoch` (AuthenticateMember), with the tree and
  // GroupInfo of the epoch it starts; advances the epoch and queues the
  // commit for every member. Returns the commit's sequence number.
  Result<uint64_t> SubmitCommit(ByteSpan group_id, uint32_t sender,
                                uint64_t epoch, ByteSpan commit,
                                ByteSpan new_ratchet_tree,
                                ByteSpan new_group_info);
  // Accepts an application message or proposal at the current epoch from
  // member `sender`, authenticated as for SubmitCommit.
  Result<uint64_t> SubmitMessage(ByteSpan group_id, uint32_t sender,
                                 uint64_t epoch, ByteSpan message);
  // Messages with seq > after_seq, in order, at most `limit`.
  Result<std::vector<StoredMessage>> FetchMessages(ByteSpan group_id,
                                                   uint64_t after_seq,
                                                   int limit);
  Result<GroupDetails> Details(ByteSpan group_id);
  Result<size_t> CountGroups();

  // --- DeliveryService ---
  Result<GroupSummary> LookupGroup(ByteSpan group_id) override;
  Result<Tombstone> LookupTombstone(ByteSpan group_id) override;
  Result<Bytes> MemberSignatureKey(ByteSpan group_id,
                                   uint32_t leaf_index) override;
  Status Freeze(ByteSpan group_id, uint64_t epoch,
                std::string_view migration_id) override;
  Status Unfreeze(ByteSpan group_id, std::string_view migration_id) override;
  Result<Bytes> ExportGroupState(ByteSpan group_id, ByteSpan commit,
                                 std::string_view migration_id) override;
  Status ImportGroupState(ByteSpan group_state,
                          std::string_view migration_id) override;
  Status FanOutCommit(ByteSpan group_id, ByteSpan commit,
                      std::string_view migration_id) override;
  Status DeleteGroup(ByteSpan group_id, const Tombstone& tombstone,
                     std::string_view migration_id) override;

  // --- store::JoinableDs: the same writes inside a store call's
  // transaction (only for a store on this DS's own database) ---
  store::JoinedWrite JoinFreeze(ByteSpan group_id, uint64_t epoch,
                                std::string_view migration_id) override;
  store::JoinedWrite JoinFanOutCommit(ByteSpan group_id, ByteSpan commit,
                                      std::string_view migration_id) override;
  store::JoinedWrite JoinDeleteGroup(ByteSpan group_id,
                                     const Tombstone& tombstone,
                                     std::string_view migration_id) override;
  Result<store::JoinedWrite> JoinImportGroupState(
      ByteSpan group_state, std::string_view migration_id) override;

 private:
  EmbeddedDs(std::unique_ptr<DsTables> tables, const Clock& clock);

  // The group's row as one read snapshot saw it.
  struct CurrentGroup {
    uint16_t cipher_suite = 0;
    uint64_t epoch = 0;
    uint64_t tree_epoch = 0;
    bool frozen = false;
    Bytes ratchet_tree;
    Bytes group_info;
  };
  Result<CurrentGroup> ReadCurrent(ByteSpan group_id);

  // The write of each DeliveryService call, run either as a transaction of
  // its own or joined to a store call's (DsTables::Write or Join). They
  // hold their arguments by view.
  using Body = std::function<Status(DsTx&)>;
  Body FreezeBody(ByteSpan group_id, uint64_t epoch,
                  std::string_view migration_id);
  Body FanOutBody(ByteSpan group_id, ByteSpan commit,
                  std::string_view migration_id);
  Body DeleteGroupBody(ByteSpan group_id, const Tombstone& tombstone,
                       std::string_view migration_id);
  // Checks the state first (no database needed); the body stores it.
  Result<Body> ImportBody(ByteSpan group_state, std::string_view migration_id);
  // A PublicMessage must be from `sender` and, when the DS holds the
  // GroupInfo of the current epoch, verify under its GroupContext.
  static Status CheckMemberMessage(ByteSpan group_id, const CurrentGroup& g,
                                   uint32_t sender, const mls::MlsMessage& msg);

  const std::unique_ptr<DsTables> tables_;
  const Clock& clock_;
  std::atomic<size_t> max_group_id_bytes_{256};
};

}  // namespace mimi::embedded_ds

#endif  // MIMI_EMBEDDED_DS_EMBEDDED_DS_H_
