// The store calls behind the admin API and mimi-portctl: the filtered list,
// the stalled count, the operator's ScheduleNow, and opening a database
// read-only (while the daemon has it open and after it closed it). The
// calls on both backends (testing/store_backend.h); the read-only open is
// SQLite's.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::DataFor;
using testing::FindRule;
using testing::MakeId;
using testing::MakeRecord;
using testing::TempDir;
using ::mimi::testing::StoreBackendTest;
using S = MigrationState;

class AdminQueriesTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    OpenStore("a.db");
    if (store_ == nullptr) return;
  }
  void Step(const std::string& id, Role role, S from, S to) {
    auto out = store_->Transition(id, role, from, to,
                                  DataFor(*FindRule(role, from, to)));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }
  std::vector<std::string> Ids(const ListFilter& f) {
    auto rows = store_->List(f);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<std::string> ids;
    if (rows.ok()) {
      for (const auto& r : *rows) ids.push_back(r.id + "/" + std::string(RoleName(r.role)));
    }
    return ids;
  }

};

TEST_P(AdminQueriesTest, ListFiltersByRoleStateGroupNewestFirstWithLimit) {
  const std::string a = MakeId(1), b = MakeId(2), t = MakeId(3);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(a, Role::kSource, "g1"), "c").ok());
  clock_.Advance(10);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(b, Role::kSource, "g2"), "c").ok());
  clock_.Advance(10);
  ASSERT_TRUE(store_->CreateTargetMigration(MakeRecord(t, Role::kTarget, "g1"),
                                            clock_.NowMillis() + 1000, "c").ok());
  Step(a, Role::kSource, S::kInitiated, S::kContentSent);

  EXPECT_EQ(Ids({}), (std::vector<std::string>{t + "/target", b + "/source",
                                                a + "/source"}));
  ListFilter by_role;
  by_role.role = Role::kSource;
  EXPECT_EQ(Ids(by_role), (std::vector<std::string>{b + "/source", a + "/source"}));
  ListFilter by_state;
  by_state.state = S::kContentSent;
  EXPECT_EQ(Ids(by_state), (std::vector<std::string>{a + "/source"}));
  ListFilter by_group;
  by_group.group_id = ToBytes("g1");
  EXPECT_EQ(Ids(by_group), (std::vector<std::string>{t + "/target", a + "/source"}));
  ListFilter all_three = by_group;
  all_three.role = Role::kSource;
  all_three.state = S::kInitiated;
  EXPECT_TRUE(Ids(all_three).empty());
  ListFilter limited;
  limited.limit = 1;
  EXPECT_EQ(Ids(limited), (std::vector<std::string>{t + "/target"}));
  limited.limit = 0;
  EXPECT_EQ(store_->List(limited).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(AdminQueriesTest, ScheduleNowMakesDueClearsStallAndResetsBackoff) {
  const std::string a = MakeId(1);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(a, Role::kSource, "g"), "c").ok());
  EXPECT_EQ(store_->CountStalled().value(), 0);
  ASSERT_TRUE(store_->RecordFailure(a, Role::kSource, "peer down",
                                    clock_.NowMillis() + 60'000, false).ok());
  ASSERT_TRUE(store_->RecordFailure(a, Role::kSource, "peer down",
                                    clock_.NowMillis() + 3'600'000, true).ok());
  EXPECT_EQ(store_->CountStalled().value(), 1);
  EXPECT_TRUE(store_->ListDue(10)->empty());

  clock_.Advance(5);
  ASSERT_TRUE(store_->ScheduleNow(a, Role::kSource).ok());
  MigrationRecord r = store_->Get(a, Role::kSource).value();
  EXPECT_EQ(r.next_attempt_at, clock_.NowMillis());
  EXPECT_EQ(r.updated_at, clock_.NowMillis());
  EXPECT_EQ(r.attempt_count, 0);
  EXPECT_FALSE(r.stalled_since.has_value());
  EXPECT_EQ(r.last_error, "peer down");  // kept for the record
  EXPECT_EQ(r.state, S::kInitiated);
  EXPECT_EQ(store_->CountStalled().value(), 0);
  ASSERT_EQ(store_->ListDue(10)->size(), 1u);
  // Not a transition: the event log is untouched.
  EXPECT_EQ(store_->Events(a, Role::kSource)->size(), 1u);
}

TEST_P(AdminQueriesTest, ScheduleNowRefusesTerminalAndMissingRows) {
  const std::string t = MakeId(3);
  ASSERT_TRUE(store_->CreateTargetMigration(MakeRecord(t, Role::kTarget, "g"),
                                            clock_.NowMillis() + 1000, "c").ok());
  Step(t, Role::kTarget, S::kRequested, S::kExpired);
  MigrationRecord before = store_->Get(t, Role::kTarget).value();
  Status s = store_->ScheduleNow(t, Role::kTarget);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.detail().find("expired"), std::string::npos) << s.detail();
  EXPECT_EQ(store_->Get(t, Role::kTarget).value(), before);
  EXPECT_EQ(store_->ScheduleNow(t, Role::kSource).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ScheduleNow(MakeId(9), Role::kTarget).code(), StatusCode::kNotFound);
}


// Opening a SQLite file read-only (mimi-portctl's fallback when the daemon
// is down); a PostgreSQL database is read through a connection instead.
class AdminSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::Open(dir_.File("a.db"), clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void Step(const std::string& id, Role role, S from, S to) {
    auto out = store_->Transition(id, role, from, to,
                                  DataFor(*FindRule(role, from, to)));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(AdminSqliteTest, ReadOnlyOpenSeesLiveCommitsAndRefusesWrites) {
  const std::string a = MakeId(1);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(a, Role::kSource, "g"), "c").ok());
  auto ro = SqliteStore::OpenReadOnly(dir_.File("a.db"), clock_);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*ro)->Get(a, Role::kSource)->state, S::kInitiated);
  // A commit by the writer after the reader opened is visible to it.
  Step(a, Role::kSource, S::kInitiated, S::kContentSent);
  EXPECT_EQ((*ro)->Get(a, Role::kSource)->state, S::kContentSent);
  EXPECT_FALSE((*ro)->ScheduleNow(a, Role::kSource).ok());
  EXPECT_FALSE((*ro)
                   ->CreateSourceMigration(MakeRecord(MakeId(2), Role::kSource, "h"), "c")
                   .ok());
  EXPECT_EQ(store_->GetById(MakeId(2))->size(), 0u);
}

TEST_F(AdminSqliteTest, ReadOnlyOpenAfterTheWriterClosed) {
  const std::string a = MakeId(1);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(a, Role::kSource, "g"), "c").ok());
  store_.reset();  // checkpoints and removes -wal/-shm, as a stopped daemon does
  auto ro = SqliteStore::OpenReadOnly(dir_.File("a.db"), clock_);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*ro)->Get(a, Role::kSource)->state, S::kInitiated);
  EXPECT_EQ((*ro)->CountStalled().value(), 0);
}

TEST_F(AdminSqliteTest, ReadOnlyOpenRefusesMissingAndForeignFiles) {
  EXPECT_EQ(SqliteStore::OpenReadOnly(dir_.File("none.db"), clock_).status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("none.db")));
  {
    SQLite::Database empty(dir_.File("empty.db"),
                           SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    empty.exec("CREATE TABLE t (x)");
  }
  EXPECT_EQ(SqliteStore::OpenReadOnly(dir_.File("empty.db"), clock_).status().code(),
            StatusCode::kFailedPrecondition);
  // A file name with URI syntax in it reaches SQLite unchanged.
  store_.reset();  // checkpointed, so the copy below is the whole database
  std::filesystem::copy_file(dir_.File("a.db"), dir_.File("we?ird#%20.db"));
  auto weird = SqliteStore::OpenReadOnly(dir_.File("we?ird#%20.db"), clock_);
  EXPECT_TRUE(weird.ok()) << weird.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminQueriesTest,
                         ::testing::ValuesIn(::mimi::testing::kAllStoreBackends),
                         ::mimi::testing::StoreBackendName);

}  // namespace
}  // namespace mimi::store
