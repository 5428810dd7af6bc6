// SqliteWriter: the one write connection to a SQLite file, with group commit.
//
// At synchronous=FULL every COMMIT is an fsync, and a disk does a few
// thousand of those per second at best, while one migration makes about a
// dozen durable writes across the store and the embedded DS. So concurrent
// writers share commits: callers hand a job (a function running SQL on the
// write connection) to Write(), one writer thread runs every job queued at
// that moment (at most max_batch) inside ONE `BEGIN IMMEDIATE ... COMMIT`,
// and each caller returns once the COMMIT holding its job is durable. There
// is no timer: a lone caller's batch is just its own job, so latency at low
// concurrency is that of a plain transaction, and batches grow only while
// the disk is busy with the previous commit.
//
// Each job runs inside its own SAVEPOINT. A job that returns an error or
// throws is rolled back to its savepoint and gets its own error while the
// rest of the batch commits; so a job behaves like the transaction it used
// to be: OK means durable, an error means it changed nothing. If BEGIN or
// COMMIT fails, or a job's error made SQLite abandon the whole transaction
// (I/O error, disk full), every job of that transaction that had succeeded
// gets that error and nothing of it is stored; jobs that had failed keep
// their own error. Jobs see the effects of earlier jobs of their batch, as
// they would have seen those earlier transactions.
//
// Open() also sets WAL, synchronous=FULL, foreign_keys=ON and the busy
// timeout, refuses a database written by a newer binary before writing to
// it, and (unless told not to) applies missing schema steps. SqliteStore and
// EmbeddedDs on one file share one writer so their writes batch together;
// their reads go through their own connections (WAL readers see every
// committed batch and never wait for the writer). Other processes or
// writers on the same file are kept apart by SQLite's locking, as before;
// while opening, they take turns (store/open_lock.h), because SQLite fails
// rather than waits when two connections set up a new file at once.
//
// Storage() says whether the disk currently takes writes: a transaction
// that fails on a full disk or an I/O error (kUnavailable, reason
// kStorageUnavailable) marks it failing, the next commit that changes a row
// marks it fine again; /healthz and the metrics report it.
//
// Thread-safe: Write() may be called from any thread, except from inside a
// job (the writer thread would wait for itself). The destructor runs the
// jobs already queued, then stops the thread.
#ifndef MIMI_STORE_SQLITE_WRITER_H_
#define MIMI_STORE_SQLITE_WRITER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "codec/mutex.h"
#include "mimi_portability/status.h"
#include "store/sqlite_statement_cache.h"

// Jobs get the connection by reference; only the store's and the embedded
// DS's own .cc files (and tests that run SQL) include SQLiteCpp.
namespace SQLite {
class Database;
}  // namespace SQLite

namespace mimi::store {

namespace internal {
template <typename R>
struct ResultValue;
template <typename T>
struct ResultValue<Result<T>> {
  using type = T;
};
}  // namespace internal

struct SqliteWriterOptions {
  // How long BEGIN IMMEDIATE waits for another connection's transaction
  // before the batch fails with kUnavailable.
  int busy_timeout_ms = 5000;
  // Most jobs in one transaction: bounds the time the write lock is held and
  // what one failed COMMIT takes down. 1 turns group commit off (one
  // transaction per job), for comparison.
  size_t max_batch = 256;
  bool create_if_missing = true;
  // Apply missing schema steps (schema_upgrade.h) at open. The embedded DS
  // opening the file alone leaves that to the store.
  bool upgrade_schema = true;
  // The registered SQLite VFS to open the file through; empty = SQLite's
  // default. Readers sharing this writer open theirs through it too. Tests
  // use it to inject I/O errors (tests/testing/faulty_vfs.h).
  std::string vfs = {};
};

// Counters since open, for tests and metrics. commits counts transactions
// that committed; jobs counts jobs that ran (committed or not).
struct SqliteWriterStats {
  uint64_t jobs = 0;
  uint64_t jobs_failed = 0;
  uint64_t commits = 0;
  uint64_t commits_failed = 0;
  uint64_t largest_batch = 0;
  // Transactions that failed because the disk refused a write (full, I/O
  // error): reason kStorageUnavailable.
  uint64_t storage_errors = 0;
  // Statements the write connection prepared into its cache, and uses
  // served from it (sqlite_statement_cache.h).
  uint64_t statements_prepared = 0;
  uint64_t statements_reused = 0;
};

// Whether the disk takes writes, as the latest transaction that wrote (or
// failed to) found it. Failing from the first storage error until a later
// transaction commits a change.
struct StorageHealth {
  bool failing = false;
  // "disk full" or "I/O error" while failing.
  std::string_view problem;
  // When it started failing (ms since the epoch, system clock); 0 if not.
  int64_t failing_since_ms = 0;
};

class SqliteWriter {
 public:
  // Runs on the writer thread with the write connection, inside an open
  // transaction and its own savepoint. Must not begin, commit or roll back
  // transactions itself, nor call Write().
  using Job = std::function<Status(SQLite::Database&)>;

  static Result<std::shared_ptr<SqliteWriter>> Open(
      const std::string& path, SqliteWriterOptions options = {});

  ~SqliteWriter();
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

  // Runs `job` in the next batch and returns once that batch is durable:
  // the job's own error, the batch's error, or OK.
  Status Write(Job job);

  // The same for a job returning Result<T>: the value is handed back only
  // if the batch committed.
  template <typename F,
            typename R = std::invoke_result_t<F&, SQLite::Database&>>
  requires(!std::is_same_v<R, Status>) R Write(F job) {
    using T = typename internal::ResultValue<R>::type;
    std::optional<T> value;
    Status s = Write(Job([&job, &value](SQLite::Database& db) -> Status {
      R r = job(db);
      if (!r.ok()) return r.status();
      value.emplace(std::move(r).value());
      return Status::Ok();
    }));
    if (!s.ok()) return s;
    return std::move(*value);
  }

  // The file this writer owns; readers open their connections to it.
  const std::string& path() const { return path_; }
  int busy_timeout_ms() const { return options_.busy_timeout_ms; }
  // The VFS of options.vfs; empty for the default.
  const std::string& vfs() const { return options_.vfs; }
  SqliteWriterStats Stats() const;
  StorageHealth Storage() const;
  // Jobs waiting for the writer to come round (not counting the batch it is
  // running).
  size_t QueueDepth() const EXCLUDES(mu_);

 private:
  // A caller's job. `done` is read and written under mu_ (the writer sets
  // it, the caller waits for it); `result` is written by the writer thread
  // before `done` and read by the caller after.
  struct Pending {
    Job job;
    Status result;
    bool done = false;
  };

  SqliteWriter(std::string path, std::unique_ptr<SQLite::Database> db,
               SqliteWriterOptions options);
  void Loop() EXCLUDES(mu_);
  void RunBatch(const std::vector<Pending*>& batch);
  // Runs batch[first..] in one transaction until the end or until SQLite
  // abandons the transaction; returns the index to continue from.
  size_t RunTransaction(const std::vector<Pending*>& batch, size_t first);
  // Called by the writer thread once per transaction: it failed with
  // `error` (OK: it committed, having changed `changed` rows).
  void NoteStorage(const Status& error, bool changed);

  const std::string path_;
  const SqliteWriterOptions options_;
  std::unique_ptr<SQLite::Database> db_;  // used by the writer thread only
  // The write connection's prepared statements; after db_, so that it goes
  // first.
  std::unique_ptr<StatementCache> statements_;

  mutable Mutex mu_;
  CondVar work_cv_;  // the writer waits for jobs
  CondVar done_cv_;  // callers wait for their batch
  std::deque<Pending*> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> jobs_{0};
  std::atomic<uint64_t> jobs_failed_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> commits_failed_{0};
  std::atomic<uint64_t> largest_batch_{0};
  std::atomic<uint64_t> storage_errors_{0};
  // 0 ok, 1 disk full, 2 I/O error; since when (ms).
  std::atomic<int> storage_problem_{0};
  std::atomic<int64_t> storage_failing_since_ms_{0};

  std::thread thread_;  // last, so it starts after everything above
};

}  // namespace mimi::store

#endif  // MIMI_STORE_SQLITE_WRITER_H_
