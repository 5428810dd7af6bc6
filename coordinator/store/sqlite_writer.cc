#include "store/sqlite_writer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>

#include <chrono>

#include "store/open_lock.h"
#include "store/schema_upgrade.h"
#include "store/sqlite_status.h"
#include "store/store.h"

namespace mimi::store {
namespace {

// Jobs never see this name; it only has to differ from anything they use.
constexpr const char* kSavepoint = "SAVEPOINT mimi_job";
constexpr const char* kRelease = "RELEASE mimi_job";
constexpr const char* kRollbackTo = "ROLLBACK TO mimi_job";

void RaiseToAtLeast(std::atomic<uint64_t>& a, uint64_t v) {
  uint64_t cur = a.load(std::memory_order_relaxed);
  while (cur < v && !a.compare_exchange_weak(cur, v)) {
  }
}

// SQLite creates a new database file with the process umask (0644 as a
// rule) and gives -wal and -shm the mode of the database file: creating the
// database file 0600 first keeps all three private to the daemon's user.
// An existing file is left as it is; any other failure is SQLite's to report.
void CreatePrivateFile(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        0600);
  if (fd >= 0) ::close(fd);
}

// A job that succeeded is failed with this when a neighbour's error took
// the transaction down: the disk's trouble stays visible as such, so that
// the caller answers 503 storage-unavailable rather than a plain retry.
Status NeighbourFailed(const Status& why) {
  std::string detail =
      "write rolled back with a failing neighbour in its batch: " +
      why.ToString();
  if (why.reason() == kStorageUnavailable) {
    return Status(StatusCode::kUnavailable, std::string(kStorageUnavailable),
                  std::move(detail));
  }
  return UnavailableError(std::move(detail));
}

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::shared_ptr<SqliteWriter>> SqliteWriter::Open(
    const std::string& path, SqliteWriterOptions options) {
  if (options.max_batch == 0) options.max_batch = 1;
  // Held until the file is in WAL mode and up to date (see open_lock.h).
  MIMI_ASSIGN_OR_RETURN(
      OpenLock open_lock,
      OpenLock::Acquire(path, OpenLock::Mode::kExclusive,
                        std::chrono::milliseconds(options.busy_timeout_ms)));
  return Guarded(
      "opening " + path, [&]() -> Result<std::shared_ptr<SqliteWriter>> {
        int flags = SQLite::OPEN_READWRITE;
        if (options.create_if_missing) {
          flags |= SQLite::OPEN_CREATE;
          CreatePrivateFile(path);
        }
        auto db = std::make_unique<SQLite::Database>(
            path, flags, options.busy_timeout_ms, options.vfs);
        // Refuse a newer file before any PRAGMA below could write to it.
        MIMI_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*db));
        if (version > LatestSchemaVersion()) {
          return Status(StatusCode::kFailedPrecondition,
                        path + ": database schema version " +
                            std::to_string(version) +
                            " is newer than this binary's " +
                            std::to_string(LatestSchemaVersion()) +
                            "; run a newer mimi-portability (the file was "
                            "not changed)");
        }
        std::string mode =
            db->execAndGet("PRAGMA journal_mode = WAL").getString();
        if (mode != "wal") {
          return InternalError(path + ": cannot use WAL (journal mode " +
                               mode + ")");
        }
        db->exec("PRAGMA synchronous = FULL");
        db->exec("PRAGMA foreign_keys = ON");
        if (options.upgrade_schema) {
          Status upgraded = UpgradeSchema(*db);
          if (!upgraded.ok()) {
            return Status(upgraded.code(), path + ": " + upgraded.detail());
          }
        }
        return std::shared_ptr<SqliteWriter>(
            new SqliteWriter(path, std::move(db), options));
      });
}

SqliteWriter::SqliteWriter(std::string path,
                           std::unique_ptr<SQLite::Database> db,
                           SqliteWriterOptions options)
    : path_(std::move(path)),
      options_(options),
      db_(std::move(db)),
      statements_(std::make_unique<StatementCache>(*db_)),
      thread_([this] { Loop(); }) {}

SqliteWriter::~SqliteWriter() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  work_cv_.NotifyOne();
  thread_.join();
}

Status SqliteWriter::Write(Job job) {
  Pending pending{std::move(job), Status::Ok(), false};
  MutexLock lock(mu_);
  if (stopping_) return UnavailableError(path_ + ": the writer is closed");
  queue_.push_back(&pending);
  work_cv_.NotifyOne();
  while (!pending.done) done_cv_.Wait(mu_);
  return std::move(pending.result);
}

SqliteWriterStats SqliteWriter::Stats() const {
  SqliteWriterStats s;
  s.jobs = jobs_.load();
  s.jobs_failed = jobs_failed_.load();
  s.commits = commits_.load();
  s.commits_failed = commits_failed_.load();
  s.largest_batch = largest_batch_.load();
  s.storage_errors = storage_errors_.load();
  s.statements_prepared = statements_->prepared();
  s.statements_reused = statements_->reused();
  return s;
}

StorageHealth SqliteWriter::Storage() const {
  StorageHealth h;
  const int problem = storage_problem_.load();
  h.failing = problem != 0;
  h.problem = problem == 1 ? "disk full" : problem == 2 ? "I/O error" : "";
  h.failing_since_ms = h.failing ? storage_failing_since_ms_.load() : 0;
  return h;
}

void SqliteWriter::NoteStorage(const Status& error, bool changed) {
  if (error.ok()) {
    // A commit that wrote nothing proves nothing about the disk.
    if (changed) {
      storage_problem_.store(0);
      storage_failing_since_ms_.store(0);
    }
    return;
  }
  if (error.reason() != kStorageUnavailable) return;
  storage_errors_.fetch_add(1);
  const bool full = error.detail().find("disk full") != std::string::npos;
  if (storage_problem_.exchange(full ? 1 : 2) == 0) {
    storage_failing_since_ms_.store(WallMillis());
  }
}

size_t SqliteWriter::QueueDepth() const {
  MutexLock lock(mu_);
  return queue_.size();
}

void SqliteWriter::Loop() {
  std::vector<Pending*> batch;
  for (;;) {
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) work_cv_.Wait(mu_);
      // Stopping still drains: a queued caller is waiting for its answer.
      if (queue_.empty()) return;
      batch.clear();
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    RunBatch(batch);
    MutexLock lock(mu_);
    for (Pending* p : batch) p->done = true;
    done_cv_.NotifyAll();
  }
}

void SqliteWriter::RunBatch(const std::vector<Pending*>& batch) {
  size_t next = 0;
  while (next < batch.size()) next = RunTransaction(batch, next);
  uint64_t failed = 0;
  for (const Pending* p : batch) failed += p->result.ok() ? 0 : 1;
  jobs_.fetch_add(batch.size());
  jobs_failed_.fetch_add(failed);
  RaiseToAtLeast(largest_batch_, batch.size());
}

size_t SqliteWriter::RunTransaction(const std::vector<Pending*>& batch,
                                    size_t first) {
  sqlite3* handle = db_->getHandle();
  // Fails the jobs of [first, end) that had succeeded so far: what they
  // wrote is gone with the transaction.
  auto fail_done = [&](size_t end, const Status& why) {
    for (size_t j = first; j < end; ++j) {
      if (batch[j]->result.ok()) batch[j]->result = why;
    }
  };
  auto abandon = [&] {
    try {
      if (!sqlite3_get_autocommit(handle)) db_->exec("ROLLBACK");
    } catch (...) {
      // Nothing more to undo with: the connection reports the next error.
    }
    commits_failed_.fetch_add(1);
  };

  try {
    CachedStatement(*db_, "BEGIN IMMEDIATE")->exec();
  } catch (...) {
    Status s = StatusFromCurrentException(path_ + ": beginning a write");
    for (size_t j = first; j < batch.size(); ++j) batch[j]->result = s;
    commits_failed_.fetch_add(1);
    NoteStorage(s, false);
    return batch.size();
  }
  const int64_t changes_before = sqlite3_total_changes64(handle);

  for (size_t i = first; i < batch.size(); ++i) {
    Pending& p = *batch[i];
    Status s;
    try {
      CachedStatement(*db_, kSavepoint)->exec();
      s = p.job(*db_);
      if (s.ok()) CachedStatement(*db_, kRelease)->exec();
    } catch (...) {
      s = StatusFromCurrentException(path_ + ": write");
    }
    p.result = s;
    if (s.ok()) continue;
    NoteStorage(s, false);
    // Some errors (I/O, disk full, out of memory) make SQLite roll back the
    // whole transaction: the neighbours' work went with it. The rest of the
    // batch goes on in a fresh transaction.
    if (sqlite3_get_autocommit(handle)) {
      commits_failed_.fetch_add(1);
      fail_done(i, NeighbourFailed(s));
      return i + 1;
    }
    try {
      CachedStatement(*db_, kRollbackTo)->exec();
      CachedStatement(*db_, kRelease)->exec();
    } catch (...) {
      Status undo =
          StatusFromCurrentException(path_ + ": undoing a failed write");
      abandon();
      NoteStorage(undo, false);
      fail_done(i, NeighbourFailed(undo));
      return i + 1;
    }
  }

  try {
    CachedStatement(*db_, "COMMIT")->exec();
    commits_.fetch_add(1);
    NoteStorage(Status::Ok(),
                sqlite3_total_changes64(handle) != changes_before);
  } catch (...) {
    Status s = StatusFromCurrentException(path_ + ": committing " +
                                          std::to_string(batch.size() - first) +
                                          " writes");
    abandon();
    NoteStorage(s, false);
    fail_done(batch.size(), s);
  }
  return batch.size();
}

}  // namespace mimi::store
