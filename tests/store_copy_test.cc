// `store copy` (store/store_copy.h): a SQLite file with migrations in every
// state, lease holders and embedded-DS rows, copied into a test schema of
// the PostgreSQL test server, reads back the same through PgStore; and every
// refusal leaves the PostgreSQL side as it was.
#include "store/store_copy.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/pg/pg_schema_upgrade.h"
#include "store/pg/pg_store.h"
#include "store/schema_upgrade.h"
#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::DataFor;
using testing::MakeId;
using testing::MakeRecord;
using testing::PathTo;
using testing::TempDir;

constexpr UnixMillis kCopyTestNow = 1'900'000'000'000;

class StoreCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto admin = mimi::testing::TestPgUrl();
    if (!admin) GTEST_SKIP() << mimi::testing::kNoTestPgMessage;
    auto schema = mimi::testing::PgTestSchema::Create(*admin);
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    schema_ = std::move(*schema);
    clock_.Set(kCopyTestNow);
    path_ = dir_.File("portd.db");
  }

  // Every reachable state on both roles, a holder that has ended, and a
  // group with a tree, messages and a tombstone in the embedded DS's tables.
  void Fill() {
    auto store = SqliteStore::Open(path_, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    int n = 0;
    for (Role role : {Role::kSource, Role::kTarget}) {
      for (MigrationState state : testing::kAllStates) {
        auto path = PathTo(role, state);
        if (!path) continue;
        const std::string id = MakeId(++n, 77);
        MigrationRecord r = MakeRecord(id, role, "group-" + std::to_string(n));
        ASSERT_TRUE((role == Role::kSource
                         ? (*store)->CreateSourceMigration(r, "created")
                         : (*store)->CreateTargetMigration(
                               r, kCopyTestNow + 60000, "created"))
                        .ok());
        for (const TransitionRule* rule : *path) {
          auto out = (*store)->Transition(id, role, rule->from, rule->to,
                                          DataFor(*rule, id));
          ASSERT_TRUE(out.ok()) << out.status().ToString();
        }
        ids_.push_back({id, role});
      }
    }
    auto holder =
        (*store)->RegisterLeaseHolder("instance-a", "host-a", 42, 30000);
    ASSERT_TRUE(holder.ok()) << holder.status().ToString();
    ASSERT_TRUE((*store)->EndLeaseHolder(holder->holder_id).ok());
    store->reset();

    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    db.exec(
        "INSERT INTO ds_groups (group_id, cipher_suite, epoch, frozen_by, "
        "imported_by, next_seq, created_at, updated_at) VALUES "
        "(x'6731', 1, 3, NULL, 'mig', 2, 5, 6), (x'6732', 2, 9, 'f', NULL, 0, "
        "7, 8)");
    db.exec(
        "INSERT INTO ds_group_trees (group_id, tree_epoch, group_info, "
        "ratchet_tree) VALUES (x'6731', 3, x'00ff', x'0102030400')");
    db.exec(
        "INSERT INTO ds_messages (group_id, seq, epoch, content_type, message, "
        "migration_id, received_at) VALUES (x'6731', 0, 3, 3, x'aa', 'mig', "
        "9), "
        "(x'6731', 1, 3, 1, x'bb', NULL, 10)");
  }

  Result<CopyReport> Copy() {
    return CopySqliteToPostgres(path_, {schema_->url(), "", 10}, clock_);
  }

  int64_t PgCount(const std::string& table) {
    auto c = pg::PgConnection::Open({schema_->url(), "", 10});
    EXPECT_TRUE(c.ok());
    if (!c.ok()) return -1;
    auto r = (*c)->RunOnce("counting", "SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->Int(0, 0) : -1;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<mimi::testing::PgTestSchema> schema_;
  std::string path_;
  std::vector<std::pair<std::string, Role>> ids_;
};

TEST_F(StoreCopyTest, EveryTableArrivesAndReadsTheSameThroughPgStore) {
  Fill();
  if (HasFatalFailure()) return;
  auto report = Copy();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->schema_version, LatestSchemaVersion());
  int64_t migrations_rows = -1;
  for (const CopiedTable& t : report->tables) {
    EXPECT_EQ(t.sha256.size(), 32u) << t.name;
    EXPECT_EQ(PgCount(t.name), t.rows) << t.name;
    if (t.name == "migrations") migrations_rows = t.rows;
  }
  EXPECT_EQ(migrations_rows, static_cast<int64_t>(ids_.size()));
  // Parents first: a table comes after every table its foreign keys name.
  auto pos = [&](const std::string& name) {
    for (size_t i = 0; i < report->tables.size(); ++i) {
      if (report->tables[i].name == name) return static_cast<int>(i);
    }
    return -1;
  };
  EXPECT_LT(pos("migrations"), pos("migration_messages"));
  EXPECT_LT(pos("migrations"), pos("migration_events"));
  EXPECT_LT(pos("ds_groups"), pos("ds_messages"));
  EXPECT_EQ(PgCount("ds_messages"), 2);

  auto sqlite = SqliteStore::Open(path_, clock_);
  ASSERT_TRUE(sqlite.ok());
  auto pgs = pg::PgStore::Open({{schema_->url(), "", 10}, 2, 5000}, clock_);
  ASSERT_TRUE(pgs.ok()) << pgs.status().ToString();
  for (const auto& [id, role] : ids_) {
    auto a = (*sqlite)->GetWithMessages(id, role, kAllMessages);
    auto b = (*pgs)->GetWithMessages(id, role, kAllMessages);
    ASSERT_TRUE(a.ok() && b.ok()) << id;
    EXPECT_EQ(*a, *b) << id;
    auto ea = (*sqlite)->Events(id, role);
    auto eb = (*pgs)->Events(id, role);
    ASSERT_TRUE(ea.ok() && eb.ok());
    EXPECT_EQ(*ea, *eb) << id;
  }
  auto ha = (*sqlite)->ListLeaseHolders();
  auto hb = (*pgs)->ListLeaseHolders();
  ASSERT_TRUE(ha.ok() && hb.ok());
  EXPECT_EQ(*ha, *hb);
  // The event sequence goes on after the copied numbers: a new row's
  // creation event is appended, not refused as a duplicate key.
  MigrationRecord fresh =
      MakeRecord(MakeId(999, 77), Role::kSource, "group-new");
  EXPECT_TRUE((*pgs)->CreateSourceMigration(fresh, "after the copy").ok());
}

TEST_F(StoreCopyTest, ANonEmptyDatabaseIsRefusedAndKeepsItsRows) {
  Fill();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(Copy().ok());
  const int64_t before = PgCount("migration_events");
  auto again = Copy();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().reason(), "store-copy-refused");
  EXPECT_NE(again.status().detail().find("not empty"), std::string::npos)
      << again.status().detail();
  EXPECT_EQ(PgCount("migration_events"), before);
}

TEST_F(StoreCopyTest, ARunningDaemonsFileIsRefused) {
  Fill();
  if (HasFatalFailure()) return;
  {
    auto store = SqliteStore::Open(path_, clock_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(
        (*store)->RegisterLeaseHolder("instance-b", "host-b", 7, 30000).ok());
  }
  auto r = Copy();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().detail().find("host-b"), std::string::npos)
      << r.status().detail();
  // Once its heartbeat has lapsed (it died), the file may be copied.
  clock_.Advance(31000);
  EXPECT_TRUE(Copy().ok());
}

// A database that holds an older schema is someone's: the copy neither
// upgrades it nor writes to it.
TEST_F(StoreCopyTest, AnOlderPostgresDatabaseIsRefusedAndNotUpgraded) {
  Fill();
  if (HasFatalFailure()) return;
  auto c = pg::PgConnection::Open({schema_->url(), "", 10});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE(pg::UpgradePgSchema(**c, LatestSchemaVersion() - 1).ok());
  auto r = Copy();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "store-copy-refused");
  EXPECT_NE(r.status().detail().find("schema version"), std::string::npos)
      << r.status().detail();
  auto version = pg::ReadPgSchemaVersion(**c);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, LatestSchemaVersion() - 1);
  EXPECT_EQ(PgCount("migrations"), 0);
}

TEST_F(StoreCopyTest, AFileAtAnOlderSchemaVersionIsRefused) {
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(UpgradeSchema(db, LatestSchemaVersion() - 1).ok());
  }
  auto r = Copy();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().detail().find("schema version"), std::string::npos);
  EXPECT_EQ(CopySqliteToPostgres(dir_.File("none.db"), {schema_->url(), "", 10},
                                 clock_)
                .status()
                .code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace mimi::store
