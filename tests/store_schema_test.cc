// Schema steps, upgrades from the v1 fixture, refusal of newer databases and
// the connection settings of the SQLite store.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <memory>
#include <thread>
#include <vector>

#include "store/embedded_sql.h"
#include "store/schema_upgrade.h"
#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/read_file.h"

namespace mimi::store {
namespace {

using testing::TempDir;

std::string Collapse(std::string s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// A structural description of a schema: every table's columns, foreign keys
// and indexes (with their columns and partial conditions), and every
// trigger's text. Compared instead of sqlite_master.sql because ALTER TABLE
// rewrites a table's CREATE text differently from a fresh CREATE.
std::string DescribeSchema(SQLite::Database& db) {
  std::ostringstream out;
  SQLite::Statement objects(db,
                            "SELECT type, name, tbl_name, sql FROM "
                            "sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                            "ORDER BY type, name");
  while (objects.executeStep()) {
    std::string type = objects.getColumn(0).getString();
    std::string name = objects.getColumn(1).getString();
    out << type << " " << name << " on " << objects.getColumn(2).getString()
        << "\n";
    if (type == "table") {
      SQLite::Statement cols(db, "SELECT name, type, \"notnull\", dflt_value, "
                                 "pk FROM pragma_table_info(?1) ORDER BY cid");
      cols.bind(1, name);
      while (cols.executeStep()) {
        out << "  column " << cols.getColumn(0).getString() << " "
            << cols.getColumn(1).getString() << " notnull="
            << cols.getColumn(2).getInt() << " default="
            << cols.getColumn(3).getString() << " pk="
            << cols.getColumn(4).getInt() << "\n";
      }
      SQLite::Statement fks(db, "SELECT \"table\", \"from\", \"to\", seq "
                                "FROM pragma_foreign_key_list(?1) "
                                "ORDER BY id, seq");
      fks.bind(1, name);
      while (fks.executeStep()) {
        out << "  fk " << fks.getColumn(1).getString() << " -> "
            << fks.getColumn(0).getString() << "."
            << fks.getColumn(2).getString() << "\n";
      }
      // CHECK constraints live only in the CREATE text; keep them.
      std::string sql = objects.getColumn(3).getString();
      for (size_t p = sql.find("CHECK"); p != std::string::npos;
           p = sql.find("CHECK", p + 1)) {
        out << "  " << Collapse(sql.substr(p, sql.find(')', p) - p + 1))
            << "\n";
      }
    } else if (type == "index") {
      SQLite::Statement cols(db, "SELECT name FROM pragma_index_info(?1) "
                                 "ORDER BY seqno");
      cols.bind(1, name);
      while (cols.executeStep()) {
        out << "  key " << cols.getColumn(0).getString() << "\n";
      }
      if (!objects.getColumn(3).isNull()) {
        std::string sql = objects.getColumn(3).getString();
        size_t where = sql.find("WHERE");
        out << "  unique=" << (sql.find("UNIQUE") != std::string::npos)
            << " where="
            << (where == std::string::npos ? "" : Collapse(sql.substr(where)))
            << "\n";
      }
    } else {
      out << "  " << Collapse(objects.getColumn(3).getString()) << "\n";
    }
  }
  return out.str();
}

using ::mimi::testing::ReadTextFile;

TEST(EmbeddedSqlTest, StepsAreNumberedFromOneWithoutGaps) {
  const auto& steps = EmbeddedMigrations();
  ASSERT_FALSE(steps.empty());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].version, static_cast<int>(i) + 1) << steps[i].name;
    EXPECT_FALSE(steps[i].sql.empty()) << steps[i].name;
  }
  EXPECT_EQ(LatestSchemaVersion(), steps.back().version);
}

TEST(EmbeddedSqlTest, EmbeddedTextIsTheSourceFiles) {
  EXPECT_EQ(kSchemaSql,
            ReadTextFile(std::string(MIMI_SOURCE_DIR "/schema/schema.sql")));
  for (const auto& step : EmbeddedMigrations()) {
    EXPECT_EQ(step.sql,
              ReadTextFile(std::string(MIMI_SOURCE_DIR "/migrations/") +
                           std::string(step.name) + ".sql"));
  }
}

TEST(SchemaTest, SchemaFileEqualsAllStepsApplied) {
  TempDir dir;
  SQLite::Database from_schema(dir.File("schema.db"),
                               SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  from_schema.exec(std::string(kSchemaSql));
  SQLite::Database from_steps(dir.File("steps.db"),
                              SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  ASSERT_TRUE(UpgradeSchema(from_steps).ok());
  std::string expected = DescribeSchema(from_schema);
  EXPECT_NE(expected.find("table migrations"), std::string::npos);
  EXPECT_EQ(DescribeSchema(from_steps), expected);
  EXPECT_EQ(*ReadSchemaVersion(from_steps), LatestSchemaVersion());
}

// Every older version upgrades to the same schema as a fresh database.
TEST(SchemaTest, EveryOlderVersionUpgradesToTheCurrentSchema) {
  TempDir dir;
  SQLite::Database fresh(dir.File("fresh.db"),
                         SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  fresh.exec(std::string(kSchemaSql));
  for (int v = 0; v <= LatestSchemaVersion(); ++v) {
    std::string path = dir.File("v" + std::to_string(v) + ".db");
    {
      SQLite::Database old(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      ASSERT_TRUE(UpgradeSchema(old, v).ok());
      ASSERT_EQ(*ReadSchemaVersion(old), v);
    }
    FakeClock clock;
    auto store = SqliteStore::Open(path, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store->reset();
    SQLite::Database check(path);
    EXPECT_EQ(*ReadSchemaVersion(check), LatestSchemaVersion());
    EXPECT_EQ(DescribeSchema(check), DescribeSchema(fresh)) << "from v" << v;
  }
}

TEST(SchemaTest, UpgradesTheV1FixtureAndKeepsItsData) {
  TempDir dir;
  std::string path = dir.File("v1.db");
  std::filesystem::copy_file(std::string(MIMI_TEST_DATA_DIR "/store/v1.db"),
                             path);
  {
    SQLite::Database raw(path);
    ASSERT_EQ(*ReadSchemaVersion(raw), 1) << "the fixture must stay at v1";
  }
  FakeClock clock;
  auto store = SqliteStore::Open(path, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->ReadPragma("user_version"),
            std::to_string(LatestSchemaVersion()));

  // The fixture holds one row per reachable state of each role.
  auto counts = (*store)->CountByState();
  ASSERT_TRUE(counts.ok());
  int64_t total = 0;
  for (const StateCount& c : *counts) {
    EXPECT_EQ(c.count, 1) << StateName(c.state);
    ++total;
  }
  EXPECT_EQ(total, 11);
  auto imported = (*store)->ListByState(Role::kTarget,
                                        MigrationState::kImported, 10);
  ASSERT_TRUE(imported.ok());
  ASSERT_EQ(imported->size(), 1u);
  EXPECT_EQ(ToString((*imported)[0].content), "content:v1");
  auto events = (*store)->Events((*imported)[0].id, Role::kTarget);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(events->back().to_state, MigrationState::kImported);

  // Old rows keep moving under the new binary.
  auto initiated = (*store)->ListByState(Role::kSource,
                                         MigrationState::kInitiated, 10);
  ASSERT_TRUE(initiated.ok());
  ASSERT_EQ(initiated->size(), 1u);
  const TransitionRule* rule = testing::FindRule(
      Role::kSource, MigrationState::kInitiated, MigrationState::kContentSent);
  auto out = (*store)->Transition((*initiated)[0].id, Role::kSource,
                                  rule->from, rule->to,
                                  testing::DataFor(*rule));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*(*store)->ReadPragma("integrity_check"), "ok");
}

TEST(SchemaTest, RefusesANewerDatabaseAndLeavesItUntouched) {
  TempDir dir;
  std::string path = dir.File("newer.db");
  {
    FakeClock clock;
    auto store = SqliteStore::Open(path, clock);
    ASSERT_TRUE(store.ok());
  }
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = " +
             std::to_string(LatestSchemaVersion() + 1));
  }
  std::string before = ReadTextFile(path);
  FakeClock clock;
  auto store = SqliteStore::Open(path, clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().detail().find("newer than this binary"),
            std::string::npos)
      << store.status().ToString();
  EXPECT_EQ(ReadTextFile(path), before);
}

TEST(SchemaTest, TwoConnectionsUpgradingAtOnceApplyEachStepOnce) {
  TempDir dir;
  std::string path = dir.File("both.db");
  FakeClock clock;
  Status a, b;
  std::thread t1([&] { a = SqliteStore::Open(path, clock).status(); });
  std::thread t2([&] { b = SqliteStore::Open(path, clock).status(); });
  t1.join();
  t2.join();
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  SQLite::Database check(path);
  EXPECT_EQ(*ReadSchemaVersion(check), LatestSchemaVersion());
}

// Many threads open (creating, switching to WAL, upgrading) fresh files at
// once, round after round; none may fail with "database is locked". Before
// opening took turns (store/open_lock.h), two at once failed in about half
// the runs.
TEST(SchemaTest, ManyThreadsOpeningFreshDatabasesAllSucceed) {
  TempDir dir;
  FakeClock clock;
  constexpr int kRounds = 40;
  constexpr int kThreads = 6;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir.File("fresh" + std::to_string(round) + ".db");
    std::vector<Status> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto store = SqliteStore::Open(path, clock);
        results[t] = store.status();
      });
    }
    for (std::thread& t : threads) t.join();
    for (const Status& r : results) {
      ASSERT_TRUE(r.ok()) << "round " << round << ": " << r.ToString();
    }
    SQLite::Database check(path);
    ASSERT_EQ(*ReadSchemaVersion(check), LatestSchemaVersion());
  }
}

// The same across processes, as mimi-portd and mimi-portctl meet on a new
// data directory: writers that create and upgrade the file and a read-only
// opener, all released at once. The read-only one may find no file yet, but
// never a half set-up one.
TEST(SchemaTest, ProcessesOpeningAFreshDatabaseTogetherAllSucceed) {
  TempDir dir;
  constexpr int kRounds = 25;
  const std::string ok = "ok " + std::to_string(LatestSchemaVersion()) + "\n";
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir.File("fresh" + std::to_string(round) + ".db");
    std::vector<std::unique_ptr<testing::Child>> children;
    for (const char* mode : {"rw", "rw", "rw", "ro"}) {
      children.push_back(std::make_unique<testing::Child>(
          std::vector<std::string>{MIMI_STORE_HELPER, "open", path, mode}));
      ASSERT_TRUE(children.back()->started());
    }
    for (auto& c : children) c->Send('g');
    for (size_t i = 0; i < children.size(); ++i) {
      children[i]->ReadToEnd();
      EXPECT_EQ(children[i]->Wait(), 0);
      const std::string& out = children[i]->buffer();
      if (i + 1 == children.size() && out.rfind("not-found", 0) == 0) continue;
      ASSERT_EQ(out, ok) << "round " << round << ", opener " << i;
    }
  }
}

TEST(SqliteStoreTest, OpensWithDurableSettings) {
  TempDir dir;
  FakeClock clock;
  auto store = SqliteStore::Open(dir.File("s.db"), clock,
                                 SqliteStoreOptions{.busy_timeout_ms = 1234});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->ReadPragma("journal_mode"), "wal");
  EXPECT_EQ(*(*store)->ReadPragma("synchronous"), "2");  // FULL
  EXPECT_EQ(*(*store)->ReadPragma("foreign_keys"), "1");
  EXPECT_EQ(*(*store)->ReadPragma("busy_timeout"), "1234");
  EXPECT_FALSE((*store)->ReadPragma("user_version; DROP TABLE x").ok());
}

TEST(SqliteStoreTest, EventLogRefusesUpdateAndDelete) {
  TempDir dir;
  std::string path = dir.File("s.db");
  FakeClock clock;
  auto store = SqliteStore::Open(path, clock);
  ASSERT_TRUE(store.ok());
  std::string id = testing::MakeId(1);
  ASSERT_TRUE((*store)
                  ->CreateSourceMigration(
                      testing::MakeRecord(id, Role::kSource, "g"), "created")
                  .ok());
  SQLite::Database raw(path, SQLite::OPEN_READWRITE);
  EXPECT_THROW(raw.exec("UPDATE migration_events SET detail = 'x'"),
               SQLite::Exception);
  EXPECT_THROW(raw.exec("DELETE FROM migration_events"), SQLite::Exception);
  auto events = (*store)->Events(id, Role::kSource);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().detail, "created");
}

TEST(SqliteStoreTest, UnopenableFileIsAStatusNotAnException) {
  TempDir dir;
  FakeClock clock;
  auto store = SqliteStore::Open(dir.File("no/such/dir/s.db"), clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace mimi::store
