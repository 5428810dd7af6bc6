// Store: the durable record of every migration this DS takes part in, as
// source or target, with the state machine of transitions.h enforced on
// every write (docs/protocol.md §4 "States").
//
// This is the narrow interface the daemon, the recovery loop and the CLI use;
// SqliteStore and pg::PgStore implement it (store/pg/pg_store.h). Every
// mutating call is one atomic transaction that is durable when the call
// returns OK, so the peer may be answered afterwards. Expected failures are
// Status values: kNotFound (no such row), kAlreadyExists (duplicate id, or a
// group that already has an active outgoing migration), kFailedPrecondition
// (wrong state, lease held by another), kInvalidArgument (not a legal
// transition or wrong data for it), kUnavailable (database busy, or, with
// reason kStorageUnavailable, the disk full or failing: retry).
// Implementations are thread-safe.
#ifndef MIMI_STORE_STORE_H_
#define MIMI_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "store/joined_write.h"
#include "store/message_stream.h"
#include "store/records.h"
#include "store/transitions.h"

namespace mimi::store {

// The reason (Status::reason) of a kUnavailable that comes from the disk
// under the database refusing a write: full, or an I/O error. Every store
// write is all or nothing, so such a call changed nothing and may be
// retried once the disk is writable again (docs/reliability.md, "Disks that
// fill and fail").
inline constexpr std::string_view kStorageUnavailable = "storage-unavailable";

enum class TransitionOutcome {
  kApplied,
  // The same transition with the same data had already happened: nothing was
  // written, and the caller may answer as it did the first time.
  kAlreadyApplied,
};

// Where a due row stands in the recovery order (next attempt, id, role):
// what Store::ListDueKeys returns and continues after.
struct DueKey {
  UnixMillis next_attempt_at = 0;
  std::string id;
  Role role = Role::kSource;
};

// The filters of Store::List; an unset filter matches every row.
struct ListFilter {
  std::optional<Role> role;
  std::optional<MigrationState> state;
  std::optional<Bytes> group_id;
  int limit = 100;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates a source row in `initiated` with its creation event. The record's
  // state, attempt fields and times are ignored. If record.lease_owner is
  // set, the row is born leased to it until record.lease_expires_at (which
  // must be set then), so that taking the lease rides on the creation: the
  // init handler hands that lease to the worker that drives the row, and
  // no other driver can take the row in between.
  //
  // With `joined` (joined_write.h; may be null), its write runs in the same
  // transaction once the row is inserted: the embedded DS's freeze rides on
  // the creation, and a refused freeze leaves no row. A creation refused
  // (kAlreadyExists) runs no joined write.
  virtual Status CreateSourceMigration(const MigrationRecord& record,
                                       std::string_view detail,
                                       const JoinedWrite* joined) = 0;
  Status CreateSourceMigration(const MigrationRecord& record,
                               std::string_view detail) {
    return CreateSourceMigration(record, detail, nullptr);
  }
  // Issues the nonce record.id and creates the target row in `requested`, in
  // one transaction. Recovery looks at the row again when the nonce expires.
  virtual Status CreateTargetMigration(const MigrationRecord& record,
                                       UnixMillis expires_at,
                                       std::string_view detail) = 0;

  // Compare-and-set from -> to with its data and event row. A stale `from`
  // is kFailedPrecondition and changes nothing; a repeat is recognised.
  Result<TransitionOutcome> Transition(std::string_view id, Role role,
                                       MigrationState from, MigrationState to,
                                       const TransitionData& data) {
    const Move move{from, to, &data, nullptr};
    return TransitionSteps(id, role, std::span<const Move>(&move, 1));
  }

  // One move of TransitionSteps: a transition, and the write joined to it
  // (may be null), which runs right after the move is applied and not when
  // it is a repeat (the transaction that applied it ran it then).
  struct Move {
    MigrationState from;
    MigrationState to;
    const TransitionData* data;
    const JoinedWrite* joined = nullptr;
  };
  // The moves of one row, in order, in one transaction: each a Transition
  // as above; the first that fails rolls every one back and is the call's
  // error. kAlreadyApplied when every move was a repeat, else kApplied.
  // A protocol step that makes two transitions (content-sent ->
  // target-complete -> confirmed, with the fan-out) commits once.
  virtual Result<TransitionOutcome> TransitionSteps(
      std::string_view id, Role role, std::span<const Move> moves) = 0;

  // Recovery bookkeeping. A lease is taken when it is free, expired,
  // already the caller's, or a recovery claim of the caller's holder
  // (ClaimDueKeys) (compare-and-set); otherwise kFailedPrecondition, also
  // when an engine shared by several processes finds the row locked by
  // another transaction at that moment (it does not wait for it).
  // The owner is "<holder_id>#<n>" (LeaseHolderOf); when its holder has
  // ended (a later incarnation of its instance started; docs/protocol.md §4
  // "Lease ownership"), the lease is refused too: a superseded process
  // takes no new lease.
  virtual Status AcquireLease(std::string_view id, Role role,
                              std::string_view owner, int64_t duration_ms) = 0;
  // Only the owner releases; releasing a lease one does not hold is a no-op.
  virtual Status ReleaseLease(std::string_view id, Role role,
                              std::string_view owner) = 0;

  // Lease holders (docs/protocol.md §4 "Lease ownership"). Registers the
  // next incarnation of `instance_id` (one more than the highest so far),
  // alive for `alive_ms`, and ends every earlier incarnation of it that has
  // not ended, in one transaction: they are dead by construction, since one
  // instance runs one process at a time.
  virtual Result<LeaseHolder> RegisterLeaseHolder(std::string_view instance_id,
                                                  std::string_view host,
                                                  int64_t pid,
                                                  int64_t alive_ms) = 0;
  // Keeps the holder alive for `alive_ms` from now. kFailedPrecondition when
  // it has ended (a later incarnation started): it must stop taking leases.
  // kNotFound when there is no such holder.
  virtual Status HeartbeatLeaseHolder(std::string_view holder_id,
                                      int64_t alive_ms) = 0;
  // Ends the holder (a clean stop); its leases are free to take at once.
  virtual Status EndLeaseHolder(std::string_view holder_id) = 0;
  // Frees every unexpired lease whose holder is dead and returns those
  // leases, in one transaction; a live holder's lease is never touched, nor
  // one of `self` (the caller's own holder, alive since it asks, even when
  // its heartbeat is late).
  // When there is nothing to take over it writes nothing. Both this and
  // RegisterLeaseHolder forget dead holders that hold no lease any more,
  // except the latest incarnation of each instance.
  virtual Result<std::vector<ReclaimedLease>> ReclaimDeadLeases(
      std::string_view self) = 0;
  // Every registered holder, by instance id and incarnation.
  virtual Result<std::vector<LeaseHolder>> ListLeaseHolders() = 0;
  // Counts a failed attempt and schedules the next one. `stalled` flags the
  // row for operators (it stays flagged until the next transition) without
  // stopping retries.
  virtual Status RecordFailure(std::string_view id, Role role,
                               std::string_view error,
                               UnixMillis next_attempt_at, bool stalled) = 0;

  // Operator retry: makes a non-terminal row due now, clears its stall and
  // restarts its back-off (attempt_count 0), so that recovery takes it up on
  // its next scan even after max_attempts. last_error stays for the record.
  // kNotFound for no row, kFailedPrecondition for a terminal one.
  virtual Status ScheduleNow(std::string_view id, Role role) = 0;

  // Queries. Every query that returns MigrationRecords returns them without
  // their messages (the message fields are empty; content_hash is set), so
  // that reading or listing rows never reads a large content; a caller that
  // needs a message asks for it with GetMessage or GetWithMessages.
  // Rows matching every set filter of `filter`, newest first.
  virtual Result<std::vector<MigrationRecord>> List(
      const ListFilter& filter) = 0;
  virtual Result<MigrationRecord> Get(std::string_view id, Role role) = 0;
  // The row with the messages in `messages` (those it has) filled in, read
  // together in one snapshot.
  virtual Result<MigrationRecord> GetWithMessages(std::string_view id,
                                                  Role role,
                                                  MessageSet messages) = 0;
  // One stored message of the row; empty when it has none yet. kNotFound
  // when there is no such row.
  virtual Result<Bytes> GetMessage(std::string_view id, Role role,
                                   MessageKind kind) = 0;
  // The same message as a stream read in pieces (message_stream.h), for
  // one too large to load whole. kNotFound when there is no such row.
  virtual Result<std::unique_ptr<MessageStream>> OpenMessage(
      std::string_view id, Role role, MessageKind kind) = 0;
  // Both roles' rows of one id (a DS may be both ends in tests).
  virtual Result<std::vector<MigrationRecord>> GetById(std::string_view id) = 0;
  virtual Result<std::vector<MigrationRecord>> ListByGroup(
      ByteSpan group_id) = 0;
  // Oldest first.
  virtual Result<std::vector<MigrationRecord>> ListByState(
      Role role, MigrationState state, int limit) = 0;
  // Non-zero counts only.
  virtual Result<std::vector<StateCount>> CountByState() = 0;
  // Rows whose next attempt is due now and whose lease is free or expired,
  // earliest first.
  virtual Result<std::vector<MigrationRecord>> ListDue(int limit) = 0;
  // The same rows as ListDue, keys only, in the order (next_attempt_at, id,
  // role) and strictly after `after` when given: one page of a walk through
  // every due row, so that recovery can take up a large backlog in one scan
  // without reading the stored messages.
  virtual Result<std::vector<DueKey>> ListDueKeys(const DueKey* after,
                                                  int limit) = 0;
  // Recovery's claim of due rows (docs/protocol.md §4 "Lease ownership"):
  // the page ListDueKeys(after, limit) would return, each row leased to
  // `owner` for `duration_ms` in the same transaction when the engine is
  // shared by several processes, so that two instances scanning at once
  // never both take a row. `owner` is "<holder_id>#claim" (ClaimOwnerOf):
  // a driver of the same holder takes the lease over (AcquireLease), any
  // other is refused until it is released or lapses. A row another
  // transaction has locked at that moment is skipped, not waited for; the
  // next scan sees it again. An engine that one process owns (SQLite:
  // open_lock.h) has nobody to race, so the default only lists the page and
  // leaves `leased` false. A superseded holder claims nothing
  // (kFailedPrecondition), as with AcquireLease.
  struct DueClaim {
    std::vector<DueKey> keys;
    bool leased = false;  // the rows now carry `owner`'s lease
  };
  virtual Result<DueClaim> ClaimDueKeys(const DueKey* after, int limit,
                                        std::string_view owner,
                                        int64_t duration_ms) {
    (void)owner;
    (void)duration_ms;
    MIMI_ASSIGN_OR_RETURN(auto keys, ListDueKeys(after, limit));
    return DueClaim{std::move(keys), false};
  }
  // Stalled rows, oldest stall first.
  virtual Result<std::vector<MigrationRecord>> ListStalled(int limit) = 0;
  virtual Result<int64_t> CountStalled() = 0;
  // How long ago the oldest row in a non-terminal state was created; empty
  // when every migration is finished.
  virtual Result<std::optional<int64_t>> OldestUnfinishedAgeMillis() = 0;
  // The event log of one row, in order.
  virtual Result<std::vector<MigrationEvent>> Events(std::string_view id,
                                                     Role role) = 0;
  virtual Result<IssuedNonce> GetNonce(std::string_view nonce) = 0;
  virtual Result<Tombstone> GetTombstone(ByteSpan group_id) = 0;
};

}  // namespace mimi::store

#endif  // MIMI_STORE_STORE_H_
