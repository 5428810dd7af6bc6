// SqliteWriter: concurrent callers share commits, a failing job is undone
// alone, a failing COMMIT fails its whole batch and stores nothing, what
// returned OK survives a reopen; and SqliteStore through a shared writer
// (concurrent transitions, reads that do not wait for the writer).
//
// Batches are made deterministic by holding the writer thread in a job
// until the jobs under test are queued behind it.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mimi_portability/clock.h"
#include "store/sqlite_store.h"
#include "store/sqlite_writer.h"
#include "store_testing.h"

namespace mimi::store {
namespace {

using testing::DataFor;
using testing::FindRule;
using testing::MakeId;
using testing::MakeRecord;
using testing::TempDir;
using S = MigrationState;

std::shared_ptr<SqliteWriter> OpenWriter(const std::string& path,
                                         SqliteWriterOptions options = {}) {
  auto w = SqliteWriter::Open(path, options);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  if (!w.ok()) return nullptr;
  Status made = (*w)->Write([](SQLite::Database& db) {
    db.exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)");
    return Status::Ok();
  });
  EXPECT_TRUE(made.ok()) << made.ToString();
  return std::move(w).value();
}

SqliteWriter::Job Insert(int64_t k) {
  return [k](SQLite::Database& db) {
    SQLite::Statement ins(db, "INSERT INTO t (k, v) VALUES (?1, 'x')");
    ins.bind(1, k);
    ins.exec();
    return Status::Ok();
  };
}

std::vector<int64_t> Keys(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT k FROM t ORDER BY k");
  std::vector<int64_t> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
  return out;
}

// Holds the writer thread inside a job until Release(), so that whatever is
// submitted meanwhile lands in one batch behind it.
class WriterGate {
 public:
  explicit WriterGate(SqliteWriter& writer) : writer_(writer) {
    auto in = entered_.get_future();
    holder_ = std::thread([this] {
      Status s = writer_.Write([this](SQLite::Database&) {
        entered_.set_value();
        release_.get_future().wait();
        return Status::Ok();
      });
      EXPECT_TRUE(s.ok()) << s.ToString();
    });
    in.wait();
  }
  ~WriterGate() {
    if (holder_.joinable()) Release();
  }
  // Waits until `n` jobs are queued behind the gate.
  void AwaitQueued(size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (writer_.QueueDepth() < n &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(writer_.QueueDepth(), n);
  }
  void Release() {
    release_.set_value();
    holder_.join();
  }

 private:
  SqliteWriter& writer_;
  std::promise<void> entered_;
  std::promise<void> release_;
  std::thread holder_;
};

// Runs `jobs` from one thread each, all queued behind a gate, and returns
// their statuses in the order of `jobs`.
std::vector<Status> RunInOneBatch(SqliteWriter& writer,
                                  std::vector<SqliteWriter::Job> jobs) {
  std::vector<Status> out(jobs.size());
  WriterGate gate(writer);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < jobs.size(); ++i) {
    threads.emplace_back([&, i] { out[i] = writer.Write(std::move(jobs[i])); });
  }
  gate.AwaitQueued(jobs.size());
  gate.Release();
  for (auto& t : threads) t.join();
  return out;
}

TEST(SqliteWriterTest, ManyThreadsWriteConcurrentlyAndShareCommits) {
  TempDir dir;
  std::string path = dir.File("w.db");
  auto writer = OpenWriter(path);
  ASSERT_NE(writer, nullptr);
  SqliteWriterStats before = writer->Stats();
  constexpr int kThreads = 16;
  constexpr int kPerThread = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!writer->Write(Insert(t * kPerThread + i)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Keys(path).size(), size_t{kThreads * kPerThread});
  SqliteWriterStats after = writer->Stats();
  uint64_t jobs = after.jobs - before.jobs;
  uint64_t commits = after.commits - before.commits;
  EXPECT_EQ(jobs, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(after.commits_failed, 0u);
  // 16 callers against one fsync at a time: commits are shared.
  EXPECT_LT(commits, jobs);
  EXPECT_GT(after.largest_batch, 1u);
  RecordProperty("commits", static_cast<int>(commits));
}

TEST(SqliteWriterTest, QueuedJobsShareOneCommit) {
  TempDir dir;
  auto writer = OpenWriter(dir.File("w.db"));
  ASSERT_NE(writer, nullptr);
  std::vector<SqliteWriter::Job> jobs;
  for (int i = 0; i < 40; ++i) jobs.push_back(Insert(i));
  SqliteWriterStats before = writer->Stats();
  std::vector<Status> out = RunInOneBatch(*writer, std::move(jobs));
  for (const Status& s : out) EXPECT_TRUE(s.ok()) << s.ToString();
  SqliteWriterStats after = writer->Stats();
  EXPECT_EQ(after.jobs - before.jobs, 41u);       // the gate's job too
  EXPECT_EQ(after.commits - before.commits, 2u);  // the gate's, then all 40
  EXPECT_EQ(after.largest_batch, 40u);
}

TEST(SqliteWriterTest, BatchSizeIsCapped) {
  TempDir dir;
  SqliteWriterOptions options;
  options.max_batch = 4;
  auto writer = OpenWriter(dir.File("w.db"), options);
  ASSERT_NE(writer, nullptr);
  std::vector<SqliteWriter::Job> jobs;
  for (int i = 0; i < 10; ++i) jobs.push_back(Insert(i));
  SqliteWriterStats before = writer->Stats();
  std::vector<Status> out = RunInOneBatch(*writer, std::move(jobs));
  for (const Status& s : out) EXPECT_TRUE(s.ok()) << s.ToString();
  SqliteWriterStats after = writer->Stats();
  EXPECT_EQ(after.commits - before.commits, 1u + 3u);  // gate, 4 + 4 + 2
  EXPECT_EQ(after.largest_batch, 4u);
}

TEST(SqliteWriterTest, AFailingJobIsUndoneAloneAndGetsItsOwnError) {
  TempDir dir;
  std::string path = dir.File("w.db");
  auto writer = OpenWriter(path);
  ASSERT_NE(writer, nullptr);
  std::vector<SqliteWriter::Job> jobs;
  jobs.push_back(Insert(1));
  // Writes, then finds its precondition broken.
  jobs.push_back([](SQLite::Database& db) {
    (void)Insert(2)(db);
    return Status(StatusCode::kFailedPrecondition, "stale state");
  });
  // Writes, then hits a constraint (an SQLite exception).
  jobs.push_back([](SQLite::Database& db) {
    (void)Insert(3)(db);
    return Insert(3)(db);
  });
  // Writes, then throws something else.
  jobs.push_back([](SQLite::Database& db) -> Status {
    (void)Insert(4)(db);
    throw std::runtime_error("boom");
  });
  jobs.push_back(Insert(5));
  SqliteWriterStats before = writer->Stats();
  std::vector<Status> out = RunInOneBatch(*writer, std::move(jobs));
  EXPECT_TRUE(out[0].ok()) << out[0].ToString();
  EXPECT_EQ(out[1].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(out[1].detail(), "stale state");
  EXPECT_EQ(out[2].code(), StatusCode::kAlreadyExists) << out[2].ToString();
  EXPECT_EQ(out[3].code(), StatusCode::kInternal) << out[3].ToString();
  EXPECT_NE(out[3].detail().find("boom"), std::string::npos);
  EXPECT_TRUE(out[4].ok()) << out[4].ToString();
  EXPECT_EQ(Keys(path), (std::vector<int64_t>{1, 5}));
  SqliteWriterStats after = writer->Stats();
  EXPECT_EQ(after.commits - before.commits, 2u);
  EXPECT_EQ(after.jobs_failed - before.jobs_failed, 3u);
}

TEST(SqliteWriterTest, AFailingCommitFailsTheWholeBatchAndStoresNothing) {
  TempDir dir;
  std::string path = dir.File("w.db");
  auto writer = OpenWriter(path);
  ASSERT_NE(writer, nullptr);
  // A deferred foreign key is checked at COMMIT, so one job's dangling row
  // makes the COMMIT itself fail.
  ASSERT_TRUE(writer
                  ->Write([](SQLite::Database& db) {
                    db.exec(
                        "CREATE TABLE child (p INTEGER REFERENCES t (k) "
                        "DEFERRABLE INITIALLY DEFERRED)");
                    return Status::Ok();
                  })
                  .ok());
  std::vector<SqliteWriter::Job> jobs;
  jobs.push_back(Insert(1));
  jobs.push_back(Insert(2));
  jobs.push_back([](SQLite::Database& db) {
    db.exec("INSERT INTO child (p) VALUES (99)");
    return Status::Ok();
  });
  jobs.push_back([](SQLite::Database&) {
    return Status(StatusCode::kFailedPrecondition, "own error");
  });
  SqliteWriterStats before = writer->Stats();
  std::vector<Status> out = RunInOneBatch(*writer, std::move(jobs));
  for (int i : {0, 1, 2}) {
    EXPECT_EQ(out[i].code(), StatusCode::kFailedPrecondition)
        << out[i].ToString();
    EXPECT_NE(out[i].detail().find("committing"), std::string::npos)
        << out[i].ToString();
  }
  // A job that had failed on its own keeps its own error.
  EXPECT_EQ(out[3].detail(), "own error");
  EXPECT_TRUE(Keys(path).empty());
  SqliteWriterStats after = writer->Stats();
  EXPECT_EQ(after.commits_failed - before.commits_failed, 1u);
  // The writer goes on with a clean transaction.
  EXPECT_TRUE(writer->Write(Insert(7)).ok());
  EXPECT_EQ(Keys(path), (std::vector<int64_t>{7}));
}

TEST(SqliteWriterTest, ResultJobsHandBackTheirValue) {
  TempDir dir;
  auto writer = OpenWriter(dir.File("w.db"));
  ASSERT_NE(writer, nullptr);
  Result<int64_t> n =
      writer->Write([](SQLite::Database& db) -> Result<int64_t> {
        (void)Insert(1)(db);
        return db.execAndGet("SELECT COUNT(*) FROM t").getInt64();
      });
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  Result<int64_t> bad = writer->Write([](SQLite::Database&) -> Result<int64_t> {
    return NotFoundError("none");
  });
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

TEST(SqliteWriterTest, WhatReturnedOkSurvivesAReopen) {
  TempDir dir;
  std::string path = dir.File("w.db");
  {
    auto writer = OpenWriter(path);
    ASSERT_NE(writer, nullptr);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i) {
          EXPECT_TRUE(writer->Write(Insert(t * 20 + i)).ok());
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  auto again = OpenWriter(path);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Keys(path).size(), 160u);
  SQLite::Database check(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(check.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

TEST(SqliteWriterTest, OpensWithDurableSettings) {
  TempDir dir;
  auto writer = OpenWriter(dir.File("w.db"));
  ASSERT_NE(writer, nullptr);
  Result<std::string> sync =
      writer->Write([](SQLite::Database& db) -> Result<std::string> {
        return db.execAndGet("PRAGMA synchronous").getString();
      });
  ASSERT_TRUE(sync.ok());
  EXPECT_EQ(*sync, "2");  // FULL
}

// The database and its -wal and -shm companions hold every migration's
// state: private to the daemon's user whatever the umask.
TEST(SqliteWriterTest, CreatesTheDatabaseAndItsCompanionsPrivate) {
  TempDir dir;
  const mode_t old_umask = ::umask(022);  // the common default, 0644 files
  const std::string path = dir.File("private.db");
  {
    auto writer = OpenWriter(path);
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(writer->Write(Insert(1)).ok());
    for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
      struct stat st {};
      ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
    }
  }
  ::umask(old_umask);
}

TEST(SqliteWriterTest, MissingFileWithoutCreateIsAStatus) {
  TempDir dir;
  SqliteWriterOptions options;
  options.create_if_missing = false;
  auto writer = SqliteWriter::Open(dir.File("none.db"), options);
  EXPECT_FALSE(writer.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("none.db")));
}

// --- SqliteStore through a shared writer ---

const TransitionRule& Rule(MigrationState from, MigrationState to) {
  return *FindRule(Role::kSource, from, to);
}

TEST(SharedWriterStoreTest, ConcurrentMigrationsThroughTwoStoresOnOneWriter) {
  TempDir dir;
  FakeClock clock;
  auto writer = SqliteWriter::Open(dir.File("s.db"));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  auto a = SqliteStore::Open(*writer, clock);
  auto b = SqliteStore::Open(*writer, clock);
  ASSERT_TRUE(a.ok() && b.ok());
  constexpr int kThreads = 12;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      SqliteStore& store = (t % 2) ? **a : **b;
      for (int i = 0; i < kEach; ++i) {
        std::string id = MakeId(i, t);
        ASSERT_TRUE(store
                        .CreateSourceMigration(
                            MakeRecord(id, Role::kSource, "g" + id), "c")
                        .ok());
        for (auto [from, to] : {std::pair{S::kInitiated, S::kContentSent},
                                {S::kContentSent, S::kTargetComplete},
                                {S::kTargetComplete, S::kConfirmed},
                                {S::kConfirmed, S::kPurged}}) {
          auto out = store.Transition(id, Role::kSource, from, to,
                                      DataFor(Rule(from, to)));
          ASSERT_TRUE(out.ok()) << out.status().ToString();
          ASSERT_EQ(*out, TransitionOutcome::kApplied);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto counts = (*a)->CountByState();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].state, S::kPurged);
  EXPECT_EQ((*counts)[0].count, kThreads * kEach);
  SqliteWriterStats stats = (*writer)->Stats();
  EXPECT_GE(stats.jobs, uint64_t{kThreads * kEach * 5});
  EXPECT_LT(stats.commits, stats.jobs);
}

TEST(SharedWriterStoreTest, RacingTransitionsInOneBatchApplyOnce) {
  TempDir dir;
  FakeClock clock;
  auto store = SqliteStore::Open(dir.File("s.db"), clock);
  ASSERT_TRUE(store.ok());
  std::string id = MakeId(1);
  ASSERT_TRUE(
      (*store)
          ->CreateSourceMigration(MakeRecord(id, Role::kSource, "g"), "c")
          .ok());
  const TransitionRule& r =
      Rule(MigrationState::kInitiated, MigrationState::kContentSent);
  constexpr int kRacers = 8;
  std::vector<Result<TransitionOutcome>> out(
      kRacers, Status(StatusCode::kInternal, "unset"));
  {
    WriterGate gate(*(*store)->writer());
    std::vector<std::thread> threads;
    for (int i = 0; i < kRacers; ++i) {
      // Half repeat the same data, half bring different data.
      threads.emplace_back([&, i] {
        out[i] = (*store)->Transition(id, Role::kSource, r.from, r.to,
                                      DataFor(r, i % 2 ? "v1" : "v2"));
      });
    }
    gate.AwaitQueued(kRacers);
    gate.Release();
    for (auto& t : threads) t.join();
  }
  int applied = 0, repeated = 0, refused = 0;
  for (const auto& o : out) {
    if (o.ok() && *o == TransitionOutcome::kApplied) ++applied;
    if (o.ok() && *o == TransitionOutcome::kAlreadyApplied) ++repeated;
    if (!o.ok()) {
      EXPECT_EQ(o.status().code(), StatusCode::kFailedPrecondition);
      ++refused;
    }
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(repeated + refused, kRacers - 1);
  // The winner's own data is a repeat for its half, the other data refused.
  EXPECT_EQ(repeated, kRacers / 2 - 1);
  auto events = (*store)->Events(id, Role::kSource);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u);
}

TEST(SharedWriterStoreTest, ReadsDoNotWaitForTheWriter) {
  TempDir dir;
  FakeClock clock;
  auto store = SqliteStore::Open(dir.File("s.db"), clock);
  ASSERT_TRUE(store.ok());
  std::string id = MakeId(1);
  ASSERT_TRUE(
      (*store)
          ->CreateSourceMigration(MakeRecord(id, Role::kSource, "g"), "c")
          .ok());
  WriterGate gate(*(*store)->writer());  // the writer is busy
  auto row = (*store)->Get(id, Role::kSource);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->state, MigrationState::kInitiated);
  EXPECT_EQ((*store)->CountByState()->size(), 1u);
  gate.Release();
}

TEST(SharedWriterStoreTest, StoreOnAWriterWithoutTheSchemaIsRefused) {
  TempDir dir;
  FakeClock clock;
  SqliteWriterOptions options;
  options.upgrade_schema = false;
  auto writer = SqliteWriter::Open(dir.File("s.db"), options);
  ASSERT_TRUE(writer.ok());
  auto store = SqliteStore::Open(*writer, clock);
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mimi::store
