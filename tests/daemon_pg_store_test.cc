// mimi-portd on store.backend = "postgresql": Daemon::Create keeps its
// migrations on the server (no mimi.db in the data directory; its lease
// holder is a row there, seen by any other store on the same database),
// and --check-config connects to the server and names store.url when it
// cannot. Runs against MIMI_TEST_PG_URL (testing/store_backend.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/config.h"
#include "daemon/config_check.h"
#include "daemon/daemon.h"
#include "mimi_portability/clock.h"
#include "store/pg/pg_store.h"
#include "testing/store_backend.h"
#include "testing/temp_dir.h"

namespace mimi::daemon {
namespace {

namespace fs = std::filesystem;

class DaemonPgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = ::mimi::testing::TestPgUrl();
    if (!url) GTEST_SKIP() << ::mimi::testing::kNoTestPgMessage;
    auto schema = ::mimi::testing::PgTestSchema::Create(*url);
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    schema_ = std::move(schema).value();
    const std::string secret = dir_.File("hook.secret");
    std::ofstream(secret) << std::string(64, 'a') << "\n";
    fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
    config_.domain = "source.test";
    config_.listen = {"127.0.0.1", 0};
    config_.admin_enabled = false;
    config_.data_dir = dir_.File("data");
    config_.tls.insecure_plain_http = true;
    config_.keep_alive_seconds = 1;
    // An external DS that is never called here: the store is under test.
    config_.ds.mode = "http";
    config_.ds.base_url = "http://127.0.0.1:1/ds";
    config_.ds.secret_file = secret;
    config_.store.backend = "postgresql";
    config_.store.url = schema_->url();
    config_.store.max_connections = 4;
  }

  ::mimi::testing::TempDir dir_;
  std::unique_ptr<::mimi::testing::PgTestSchema> schema_;
  Config config_;
};

TEST_F(DaemonPgStoreTest, KeepsItsMigrationsOnTheServer) {
  {
    auto d = Daemon::Create(config_, SystemClock::Get());
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    (*d)->Stop();
  }
  EXPECT_FALSE(fs::exists(Daemon::DatabasePath(config_)))
      << "no SQLite database with store.backend = \"postgresql\"";
  store::pg::PgPoolOptions o;
  o.connect.url = schema_->url();
  auto other = store::pg::PgStore::Open(o, SystemClock::Get());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto holders = (*other)->ListLeaseHolders();
  ASSERT_TRUE(holders.ok()) << holders.status().ToString();
  ASSERT_EQ(holders->size(), 1u);
  EXPECT_EQ((*holders)[0].incarnation, 1);
  EXPECT_TRUE((*holders)[0].ended_at.has_value()) << "a clean stop ends it";
}

TEST_F(DaemonPgStoreTest, CheckConfigConnectsAndNamesStoreUrl) {
  auto ok = CheckConfigFiles(config_, SystemClock::Get());
  for (const Status& s : ok) {
    EXPECT_EQ(s.detail().find("store."), std::string::npos) << s.ToString();
  }
  config_.store.url = "postgresql://mimi@127.0.0.1:1/mimi";
  auto problems = CheckConfigFiles(config_, SystemClock::Get());
  bool named = false;
  for (const Status& s : problems) {
    named |= s.detail().rfind("config: store.url: cannot connect", 0) == 0;
  }
  EXPECT_TRUE(named) << (problems.empty() ? "no problem"
                                          : problems.front().ToString());
}

}  // namespace
}  // namespace mimi::daemon
