// The store tests' backend parameter: every store suite runs once on SQLite
// and once on PostgreSQL (one parameterized suite, not a copy), and this
// opens a fresh store of either for each test.
//
// PostgreSQL needs a server: the instances use the one whose admin URL is
// in MIMI_TEST_PG_URL (tools/test starts one with tools/pg-test-cluster
// and sets it), each test in a database of its own (PgTestSchema) that is
// dropped when the test ends. Without the variable (a developer's plain
// ctest) the PostgreSQL instances are skipped, saying how to run them.
//
// Header-only, so that a test linking only mimi_store can use it. One
// owner per object; not synchronised.
#ifndef MIMI_TESTING_STORE_BACKEND_H_
#define MIMI_TESTING_STORE_BACKEND_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "store/pg/pg_connection.h"
#include "store/pg/pg_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace mimi::testing {

enum class StoreBackend { kSqlite, kPostgresql };

inline constexpr StoreBackend kAllStoreBackends[] = {StoreBackend::kSqlite,
                                                     StoreBackend::kPostgresql};

// "sqlite" / "postgresql": the suffix of each instance's test name.
inline std::string StoreBackendName(
    const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param == StoreBackend::kSqlite ? "sqlite" : "postgresql";
}

inline constexpr const char* kNoTestPgMessage =
    "MIMI_TEST_PG_URL is not set, so the PostgreSQL instance is skipped. "
    "tools/test runs it against a server it starts; by hand: "
    "export MIMI_TEST_PG_URL=$(tools/pg-test-cluster start /tmp/mimi-pg) "
    "and tools/pg-test-cluster stop /tmp/mimi-pg afterwards";

// The admin URL of the test server (its "postgres" database), if any.
inline std::optional<std::string> TestPgUrl() {
  const char* url = std::getenv("MIMI_TEST_PG_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

// A schema of its own on the test server (in the admin URL's database),
// created empty and dropped with everything in it by the destructor; url()
// connects with it as the search_path, so that the store's unqualified
// names land there. A schema rather than a database: CREATE DATABASE copies
// the template (0.7 s a test here), CREATE SCHEMA costs nothing.
class PgTestSchema {
 public:
  static Result<std::unique_ptr<PgTestSchema>> Create(
      const std::string& admin_url) {
    static std::atomic<int> counter{0};
    std::random_device rd;
    const std::string name = "mimi_test_" + std::to_string(getpid()) + "_" +
                             std::to_string(counter.fetch_add(1)) + "_" +
                             std::to_string(rd() % 1000000);
    MIMI_ASSIGN_OR_RETURN(auto admin,
                          store::pg::PgConnection::Open({admin_url, "", 10}));
    MIMI_ASSIGN_OR_RETURN(
        store::pg::PgResult r,
        admin->Exec("creating a test schema", "CREATE SCHEMA " + name));
    (void)r;
    const std::string url =
        admin_url + (admin_url.find('?') == std::string::npos ? "?" : "&") +
        "options=-csearch_path%3D" + name;
    return std::unique_ptr<PgTestSchema>(
        new PgTestSchema(admin_url, name, url));
  }
  ~PgTestSchema() {
    auto admin = store::pg::PgConnection::Open({admin_url_, "", 10});
    EXPECT_TRUE(admin.ok()) << admin.status().ToString();
    if (admin.ok()) {
      auto r = (*admin)->Exec("dropping a test schema",
                              "DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  PgTestSchema(const PgTestSchema&) = delete;
  PgTestSchema& operator=(const PgTestSchema&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  PgTestSchema(std::string admin_url, std::string name, std::string url)
      : admin_url_(std::move(admin_url)),
        name_(std::move(name)),
        url_(std::move(url)) {}

  std::string admin_url_;
  std::string name_;
  std::string url_;
};

// The fixture of a store suite parameterized by backend: SetUp opens a
// fresh store_ of GetParam() (or skips the PostgreSQL instance without a
// server). Suites derive from it and call OpenStore in their SetUp.
class StoreBackendTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  // Opens a new store on the backend under test. For SQLite, `file` in
  // dir_; for PostgreSQL, the test's own schema (created on the first
  // call; later calls open a second store on the same schema, as a second
  // instance would). Fails or skips the test on error.
  std::unique_ptr<store::Store> OpenAnother(const std::string& file) {
    if (GetParam() == StoreBackend::kSqlite) {
      auto s = store::SqliteStore::Open(dir_.File(file), clock_);
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      return s.ok() ? std::move(s).value() : nullptr;
    }
    if (pg_schema_ == nullptr) {
      auto db = PgTestSchema::Create(*TestPgUrl());
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      if (!db.ok()) return nullptr;
      pg_schema_ = std::move(db).value();
    }
    store::pg::PgPoolOptions options;
    options.connect.url = pg_schema_->url();
    auto s = store::pg::PgStore::Open(options, clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // SetUp's part: skips without a server, else opens store_.
  void OpenStore(const std::string& file = "store.db") {
    if (GetParam() == StoreBackend::kPostgresql && !TestPgUrl()) {
      GTEST_SKIP() << kNoTestPgMessage;
    }
    store_ = OpenAnother(file);
    ASSERT_NE(store_, nullptr);
  }

  TempDir dir_;
  FakeClock clock_;
  // Declared before the stores, so that they close before it is dropped.
  std::unique_ptr<PgTestSchema> pg_schema_;
  std::unique_ptr<store::Store> store_;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_STORE_BACKEND_H_
