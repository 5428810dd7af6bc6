// SqliteStore: the Store on one SQLite file (docs/protocol.md §4 "States").
//
// Writes go through a SqliteWriter (sqlite_writer.h): each mutating call is
// one job, run in its own savepoint inside a group commit shared with every
// other writer of that SqliteWriter (the daemon's embedded DS included), and
// returns once that commit is durable (WAL, synchronous=FULL), so the peer
// may be answered. The writer's open sets the PRAGMAs and applies missing
// schema steps (schema_upgrade.h). Reads use the store's own connection, so
// they never wait behind a batch and see every committed one.
//
// Thread-safe: writes are serialised by the writer thread, reads by a mutex
// on the read connection. Several SqliteStore objects (in one process or
// many) may share a file; SQLite's locking and the compare-and-set
// transitions keep them consistent.
//
// SQLite-specific: the PRAGMAs, BEGIN IMMEDIATE and the trigger syntax in the
// schema. The queries themselves are portable SQL. SQLiteCpp stays out of
// this header: opening is in sqlite_store.cc, the writes in
// sqlite_store_writes.cc, the queries in sqlite_store_queries.cc.
#ifndef MIMI_STORE_SQLITE_STORE_H_
#define MIMI_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "codec/mutex.h"
#include "mimi_portability/clock.h"
#include "store/sqlite_statement_cache.h"
#include "store/sqlite_writer.h"
#include "store/store.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace mimi::store {

struct SqliteStoreOptions {
  // How long a write waits for another connection's transaction before the
  // call fails with kUnavailable.
  int busy_timeout_ms = 5000;
  // The registered SQLite VFS to open the file through (both connections);
  // empty = SQLite's default. For tests that inject I/O errors.
  std::string vfs = {};
};

class StreamConnections;

class SqliteStore final : public Store {
 public:
  // The query behind ListDue, public so that a test can check its plan uses
  // the migrations_due index. Parameters: ?1 now, ?2 limit.
  static const char* const kDueQuery;
  // The statement behind List for the filters that are set, public so that
  // a test can check its plan needs no sort. Parameters: ?1 role, ?2 state,
  // ?3 group id (each only if set), ?4 limit.
  static std::string ListQuery(const ListFilter& filter);
  // The query behind ListDueKeys: ?1 now, ?2 limit, ?3..?5 the cursor
  // (next_attempt_at, id, role; all NULL for the first page).
  static const char* const kDueKeysQuery;

  // Creates the file if needed, with a writer of its own. A database
  // written by a newer binary is refused with kFailedPrecondition and left
  // as it was.
  static Result<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, const Clock& clock,
      SqliteStoreOptions options = {});
  // Writes through `writer` (shared, e.g. with the embedded DS, so that
  // their writes batch together), which must have upgraded the schema.
  static Result<std::unique_ptr<SqliteStore>> Open(
      std::shared_ptr<SqliteWriter> writer, const Clock& clock);

  // Opens an existing database for reading only (SQLite mode=ro), for the
  // CLI's fallback when the daemon is down: no PRAGMA, upgrade or other
  // write is attempted, and every mutating call fails. A file that is not
  // a mimi database (schema version 0) or is newer than this binary is
  // refused with kFailedPrecondition; a missing file is kNotFound.
  static Result<std::unique_ptr<SqliteStore>> OpenReadOnly(
      const std::string& path, const Clock& clock,
      SqliteStoreOptions options = {});

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

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
  Result<std::vector<MigrationRecord>> ListStalled(int limit) override;
  Result<int64_t> CountStalled() override;
  Result<std::optional<int64_t>> OldestUnfinishedAgeMillis() override;
  Result<std::vector<MigrationEvent>> Events(std::string_view id,
                                             Role role) override;
  Result<IssuedNonce> GetNonce(std::string_view nonce) override;
  Result<Tombstone> GetTombstone(ByteSpan group_id) override;

  // The value of a per-connection setting such as "synchronous" on the
  // write connection (the read one when opened read-only), for tests and
  // diagnostics. `name` must be a bare PRAGMA name.
  Result<std::string> ReadPragma(std::string_view name);

  // How many database pages the read connection has read from the file
  // (or the OS cache) so far: SQLite's page-cache misses. A test hook, to
  // prove that a query does not read a large message it was not asked for.
  Result<int64_t> PagesReadForTesting();

  // The writer this store writes through; null when opened read-only.
  const std::shared_ptr<SqliteWriter>& writer() const { return writer_; }

 private:
  SqliteStore(std::shared_ptr<SqliteWriter> writer,
              std::unique_ptr<SQLite::Database> reader, const Clock& clock);

  // kFailedPrecondition when opened read-only.
  Status CheckWritable() const;

  Status CreateMigration(const MigrationRecord& record, Role role,
                         std::optional<UnixMillis> next_attempt_at,
                         std::optional<UnixMillis> nonce_expires_at,
                         std::string_view detail, bool leased,
                         const JoinedWrite* joined = nullptr);
  // Runs in a writer job, inside its savepoint.
  Result<TransitionOutcome> TransitionJob(SQLite::Database& db,
                                          std::string_view id, Role role,
                                          MigrationState from,
                                          MigrationState to,
                                          const TransitionRule& rule,
                                          const TransitionData& data);

  const std::shared_ptr<SqliteWriter> writer_;
  Mutex read_mu_;
  // Methods take `SQLite::Database& reader = *reader_` right after locking
  // read_mu_ and use only that inside their Guarded() lambdas: clang's
  // thread-safety analysis does not carry the held lock into a lambda.
  std::unique_ptr<SQLite::Database> reader_ GUARDED_BY(read_mu_);
  // The reader's prepared statements; after reader_, so that it goes first.
  std::unique_ptr<StatementCache> reader_statements_;
  // The read connections message streams reuse
  // (sqlite_stream_connections.h).
  const std::shared_ptr<StreamConnections> stream_connections_;
  const Clock& clock_;
};

}  // namespace mimi::store

#endif  // MIMI_STORE_SQLITE_STORE_H_
