// PgStore: the Store on a PostgreSQL database (docs/protocol.md §4
// "States"; docs/operations.md "Choosing a store backend"), for operators
// who run several instances against one database.
//
// Every mutating call is one server-side transaction on a pooled
// connection (pg_pool.h), durable when the call returns OK (the server's
// synchronous_commit, on by default). The guarantees are SQLite's: a
// transition is a compare-and-set on the row's state (an UPDATE ... WHERE
// state = from, which PostgreSQL re-checks after waiting for a concurrent
// writer of the row), a lease likewise on its owner and expiry (taken
// with FOR UPDATE SKIP LOCKED: a row being written elsewhere is busy at
// once, not waited for; recovery claims due rows the same way,
// ClaimDueKeys), the
// partial unique index keeps one active outgoing migration per group, and
// the event log and the messages are append-only / write-once by PL/pgSQL
// triggers (migrations/postgresql/). Statements are prepared by name on each
// connection at first use. Reads run on pooled connections too;
// GetWithMessages reads the row and its messages in one REPEATABLE READ
// snapshot.
//
// Opening applies the missing schema steps (pg_schema_upgrade.h); a
// database written by a newer binary is refused and left as it was.
//
// Thread-safe: the pool hands each call its own connection.
#ifndef MIMI_STORE_PG_PG_STORE_H_
#define MIMI_STORE_PG_PG_STORE_H_

#include <memory>
#include <string>

#include "mimi_portability/clock.h"
#include "store/pg/pg_pool.h"
#include "store/store.h"

namespace mimi::store::pg {

class PgStore final : public Store {
 public:
  static Result<std::unique_ptr<PgStore>> Open(const PgPoolOptions& options,
                                               const Clock& clock);

  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  using Store::CreateSourceMigration;
  Status CreateSourceMigration(const MigrationRecord& record,
                               std::string_view detail,
                               const JoinedWrite* joined) override;
  Status CreateTargetMigration(const MigrationRecord& record,
                               UnixMillis expires_at,
                               std::string_view detail) override;
  Result<TransitionOutcome> TransitionSteps(
      std::string_view id, Role role, std::span<const Move> moves) override;
  Status AcquireLease(std::string_view id, Role role, std::string_view owner,
                      int64_t duration_ms) override;
  Status ReleaseLease(std::string_view id, Role role,
                      std::string_view owner) override;
  Result<LeaseHolder> RegisterLeaseHolder(std::string_view instance_id,
                                          std::string_view host, int64_t pid,
                                          int64_t alive_ms) override;
  Status HeartbeatLeaseHolder(std::string_view holder_id,
                              int64_t alive_ms) override;
  Status EndLeaseHolder(std::string_view holder_id) override;
  Result<std::vector<ReclaimedLease>> ReclaimDeadLeases(
      std::string_view self) override;
  Result<std::vector<LeaseHolder>> ListLeaseHolders() override;
  Status RecordFailure(std::string_view id, Role role, std::string_view error,
                       UnixMillis next_attempt_at, bool stalled) override;
  Status ScheduleNow(std::string_view id, Role role) override;

  Result<MigrationRecord> Get(std::string_view id, Role role) override;
  Result<MigrationRecord> GetWithMessages(std::string_view id, Role role,
                                          MessageSet messages) override;
  Result<Bytes> GetMessage(std::string_view id, Role role,
                           MessageKind kind) override;
  // The message read whole, then handed out in pieces: PostgreSQL has no
  // incremental read of a bytea (large objects would be a schema change),
  // so a content sent from this store is held in memory once.
  Result<std::unique_ptr<MessageStream>> OpenMessage(std::string_view id,
                                                     Role role,
                                                     MessageKind kind) override;
  Result<std::vector<MigrationRecord>> GetById(std::string_view id) override;
  Result<std::vector<MigrationRecord>> List(const ListFilter& filter) override;
  Result<std::vector<MigrationRecord>> ListByGroup(ByteSpan group_id) override;
  Result<std::vector<MigrationRecord>> ListByState(Role role,
                                                   MigrationState state,
                                                   int limit) override;
  Result<std::vector<StateCount>> CountByState() override;
  Result<std::vector<MigrationRecord>> ListDue(int limit) override;
  Result<std::vector<DueKey>> ListDueKeys(const DueKey* after,
                                          int limit) override;
  // FOR UPDATE SKIP LOCKED, and the rows leased to `owner`.
  Result<DueClaim> ClaimDueKeys(const DueKey* after, int limit,
                                std::string_view owner,
                                int64_t duration_ms) override;
  Result<std::vector<MigrationRecord>> ListStalled(int limit) override;
  Result<int64_t> CountStalled() override;
  Result<std::optional<int64_t>> OldestUnfinishedAgeMillis() override;
  Result<std::vector<MigrationEvent>> Events(std::string_view id,
                                             Role role) override;
  Result<IssuedNonce> GetNonce(std::string_view nonce) override;
  Result<Tombstone> GetTombstone(ByteSpan group_id) override;

  const std::shared_ptr<PgPool>& pool() const { return pool_; }

 private:
  PgStore(std::shared_ptr<PgPool> pool, const Clock& clock)
      : pool_(std::move(pool)), clock_(clock) {}

  Status CreateMigration(const MigrationRecord& record, Role role,
                         std::optional<UnixMillis> next_attempt_at,
                         std::optional<UnixMillis> nonce_expires_at,
                         std::string_view detail, bool leased,
                         const JoinedWrite* joined = nullptr);
  Result<TransitionOutcome> TransitionTx(PgConnection& c, std::string_view id,
                                         Role role, MigrationState from,
                                         MigrationState to,
                                         const TransitionRule& rule,
                                         const TransitionData& data);
  // A read on a pooled connection outside any explicit transaction.
  template <typename F>
  auto Read(F&& f) -> std::invoke_result_t<F&, PgConnection&> {
    MIMI_ASSIGN_OR_RETURN(PgPool::Handle c, pool_->Acquire());
    return f(*c);
  }

  const std::shared_ptr<PgPool> pool_;
  const Clock& clock_;
};

}  // namespace mimi::store::pg

#endif  // MIMI_STORE_PG_PG_STORE_H_
