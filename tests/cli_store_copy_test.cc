// mimi-portctl store copy, run as the built binary against the PostgreSQL
// test server: its report, and the exit codes of its refusals
// (docs/operations.md, "Moving to PostgreSQL"). The copy itself is tested in
// store_copy_test.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/command.h"
#include "testing/store_backend.h"

namespace mimi {
namespace {

const char kPortctlBinary[] = MIMI_BINARY_DIR "/tools/mimi-portctl";

testing::CommandResult StoreCopy(const std::string& from,
                                 const std::string& to) {
  return testing::RunCommand(std::string(kPortctlBinary) +
                             " store copy --from " + testing::ShellQuote(from) +
                             " --to " + testing::ShellQuote(to));
}

TEST(CliStoreCopyTest, CopiesReportsAndRefusesASecondTime) {
  const auto admin = testing::TestPgUrl();
  if (!admin) GTEST_SKIP() << testing::kNoTestPgMessage;
  auto schema = testing::PgTestSchema::Create(*admin);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  testing::TempDir dir;
  const std::string db = dir.File("portd.db");
  {
    FakeClock clock;
    auto store = store::SqliteStore::Open(db, clock);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(
        (*store)
            ->CreateSourceMigration(
                store::testing::MakeRecord(store::testing::MakeId(1),
                                           store::Role::kSource, "group-cli"),
                "created")
            .ok());
  }
  auto first = StoreCopy("sqlite:" + db, (*schema)->url());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto report = nlohmann::json::parse(first.output);
  EXPECT_EQ(report["copied"], true);
  bool saw_migrations = false;
  for (const auto& t : report["tables"]) {
    EXPECT_EQ(t["sha256"].get<std::string>().size(), 64u);
    if (t["table"] == "migrations") {
      saw_migrations = true;
      EXPECT_EQ(t["rows"], 1);
    }
  }
  EXPECT_TRUE(saw_migrations) << first.output;

  // Not empty now: refused, exit 2 (a refusal).
  EXPECT_EQ(StoreCopy("sqlite:" + db, (*schema)->url()).exit_code, 2);
}

TEST(CliStoreCopyTest, BadArgumentsAndAMissingFileHaveTheirExitCodes) {
  testing::TempDir dir;
  EXPECT_EQ(StoreCopy(dir.File("portd.db"), "postgresql://u@127.0.0.1:1/db")
                .exit_code,
            2);
  EXPECT_EQ(StoreCopy("sqlite:" + dir.File("none.db"),
                      "postgresql://u@127.0.0.1:1/db")
                .exit_code,
            3);
  // A password in the URL is refused before anything is read.
  EXPECT_EQ(StoreCopy("sqlite:" + dir.File("none.db"),
                      "postgresql://u:secret@127.0.0.1:1/db")
                .exit_code,
            2);
}

}  // namespace
}  // namespace mimi
