#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "mimi_portability/clock.h"
#include "store/sqlite_statement_cache.h"
#include "store/sqlite_store.h"
#include "store/sqlite_writer.h"
#include "store_testing.h"
#include "testing/temp_dir.h"

namespace mimi::store {
namespace {

// Statements of `db` that are stepping (hold a read of the database open).
int BusyStatements(SQLite::Database& db) {
  int busy = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.getHandle(), nullptr);
       s != nullptr; s = sqlite3_next_stmt(db.getHandle(), s)) {
    busy += sqlite3_stmt_busy(s) ? 1 : 0;
  }
  return busy;
}

int LiveStatements(SQLite::Database& db) {
  int n = 0;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db.getHandle(), nullptr);
       s != nullptr; s = sqlite3_next_stmt(db.getHandle(), s)) {
    ++n;
  }
  return n;
}

class StatementCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<SQLite::Database>(
        dir_.File("cache.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db_->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
    db_->exec("INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  }

  std::string Value(int64_t k) {
    CachedStatement q(*db_, "SELECT v FROM t WHERE k = ?1");
    q->bind(1, k);
    return q->executeStep() ? q->getColumn(0).getString() : "";
  }

  testing::TempDir dir_;
  std::unique_ptr<SQLite::Database> db_;
};

TEST_F(StatementCacheTest, ATextIsPreparedOnceAndReusedWithNewBindings) {
  StatementCache cache(*db_);
  EXPECT_EQ(Value(1), "one");
  EXPECT_EQ(Value(3), "three");
  EXPECT_EQ(Value(2), "two");
  EXPECT_EQ(cache.prepared(), 1u);
  EXPECT_EQ(cache.reused(), 2u);
  EXPECT_EQ(LiveStatements(*db_), 1);
}

TEST_F(StatementCacheTest, ReleasingResetsTheStatementAndClearsItsBindings) {
  StatementCache cache(*db_);
  {
    CachedStatement q(*db_, "SELECT v FROM t WHERE k >= ?1 ORDER BY k");
    q->bind(1, int64_t{1});
    ASSERT_TRUE(q->executeStep());  // stopped mid-result: a read is open
    EXPECT_EQ(BusyStatements(*db_), 1);
  }
  EXPECT_EQ(BusyStatements(*db_), 0);
  // A write on another connection is not held up by a read left open.
  SQLite::Database other(dir_.File("cache.db"), SQLite::OPEN_READWRITE);
  other.exec("PRAGMA busy_timeout = 0");
  other.exec("INSERT INTO t VALUES (4, 'four')");
  CachedStatement again(*db_, "SELECT v FROM t WHERE k >= ?1 ORDER BY k");
  // ?1 is NULL again: "k >= NULL" matches nothing.
  EXPECT_FALSE(again->executeStep());
  EXPECT_EQ(cache.prepared(), 1u);
}

TEST_F(StatementCacheTest, ATextInUseUpTheStackGetsAFreshStatement) {
  StatementCache cache(*db_);
  CachedStatement outer(*db_, "SELECT v FROM t WHERE k = ?1");
  outer->bind(1, int64_t{1});
  ASSERT_TRUE(outer->executeStep());
  EXPECT_EQ(Value(2), "two");  // the same text, while outer is stepping
  EXPECT_EQ(outer->getColumn(0).getString(), "one");
  EXPECT_EQ(cache.prepared(), 1u);
  EXPECT_EQ(cache.reused(), 0u);
}

TEST_F(StatementCacheTest, AConnectionWithoutACachePreparesEachTime) {
  EXPECT_EQ(Value(1), "one");
  EXPECT_EQ(Value(2), "two");
  EXPECT_EQ(LiveStatements(*db_), 0);
}

TEST_F(StatementCacheTest, AFullCacheStillServesUncachedStatements) {
  StatementCache cache(*db_);
  for (size_t i = 0; i < StatementCache::kMaxStatements + 5; ++i) {
    CachedStatement q(*db_, "SELECT " + std::to_string(i));
    ASSERT_TRUE(q->executeStep());
    EXPECT_EQ(q->getColumn(0).getInt64(), static_cast<int64_t>(i));
  }
  EXPECT_EQ(cache.prepared(), StatementCache::kMaxStatements);
  EXPECT_EQ(LiveStatements(*db_),
            static_cast<int>(StatementCache::kMaxStatements));
}

TEST_F(StatementCacheTest, TheCacheFinalizesItsStatementsAndLeavesTheRegistry) {
  {
    StatementCache cache(*db_);
    EXPECT_EQ(Value(1), "one");
    EXPECT_EQ(LiveStatements(*db_), 1);
  }
  EXPECT_EQ(LiveStatements(*db_), 0);
  // No cache is found for the connection any more.
  EXPECT_EQ(Value(2), "two");
  EXPECT_EQ(LiveStatements(*db_), 0);
  // A new cache for the same connection works from scratch.
  StatementCache again(*db_);
  EXPECT_EQ(Value(3), "three");
  EXPECT_EQ(again.prepared(), 1u);
}

// The writer's hot path: the same jobs over and over prepare nothing after
// the first round, the transaction statements included.
TEST(SqliteWriterStatementsTest, RepeatedJobsPrepareNothingNew) {
  testing::TempDir dir;
  SqliteWriterOptions options;
  options.upgrade_schema = false;
  auto writer = SqliteWriter::Open(dir.File("w.db"), options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)
                  ->Write([](SQLite::Database& db) {
                    db.exec("CREATE TABLE n (k INTEGER PRIMARY KEY)");
                    return Status::Ok();
                  })
                  .ok());
  auto insert = [&](int64_t k) {
    return (*writer)->Write([k](SQLite::Database& db) {
      CachedStatement ins(db, "INSERT INTO n (k) VALUES (?1)");
      ins->bind(1, k);
      ins->exec();
      return Status::Ok();
    });
  };
  ASSERT_TRUE(insert(1).ok());
  const uint64_t after_first = (*writer)->Stats().statements_prepared;
  EXPECT_GT(after_first, 0u);
  for (int64_t k = 2; k <= 50; ++k) ASSERT_TRUE(insert(k).ok());
  const SqliteWriterStats stats = (*writer)->Stats();
  EXPECT_EQ(stats.statements_prepared, after_first);
  EXPECT_GE(stats.statements_reused, 49u * 4);  // BEGIN, SAVEPOINT, INSERT,
                                                // RELEASE (COMMIT once a batch)
  // A job that fails (duplicate key) leaves its statement ready for reuse.
  EXPECT_FALSE(insert(7).ok());
  EXPECT_TRUE(insert(51).ok());
  EXPECT_EQ((*writer)->Stats().statements_prepared,
            after_first + 1);  // ROLLBACK TO
}

// The store's writes: once one migration of each role has gone through every
// reachable state, the next ones prepare no statement at all.
TEST(SqliteStoreStatementsTest, LaterMigrationsPrepareNoStatement) {
  testing::TempDir dir;
  FakeClock clock;
  auto store = SqliteStore::Open(dir.File("store.db"), clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  int n = 0;
  auto run_all_paths = [&](uint64_t salt) {
    for (Role role : {Role::kSource, Role::kTarget}) {
      for (MigrationState state : testing::kAllStates) {
        auto path = testing::PathTo(role, state);
        if (!path) continue;
        const std::string id = testing::MakeId(++n, salt);
        MigrationRecord r =
            testing::MakeRecord(id, role, "group-" + std::to_string(n));
        ASSERT_TRUE((role == Role::kSource
                         ? (*store)->CreateSourceMigration(r, "created")
                         : (*store)->CreateTargetMigration(
                               r, clock.NowMillis() + 60000, "created"))
                        .ok());
        for (const TransitionRule* rule : *path) {
          auto out = (*store)->Transition(id, role, rule->from, rule->to,
                                          testing::DataFor(*rule, id));
          ASSERT_TRUE(out.ok()) << out.status().ToString();
        }
      }
    }
  };
  run_all_paths(1);
  const SqliteWriterStats first = (*store)->writer()->Stats();
  run_all_paths(2);
  run_all_paths(3);
  const SqliteWriterStats later = (*store)->writer()->Stats();
  EXPECT_EQ(later.statements_prepared, first.statements_prepared);
  EXPECT_GT(later.statements_reused, first.statements_reused);
}

}  // namespace
}  // namespace mimi::store
