// Racing one transition: from two threads (two connections and one shared
// store) and from two processes on the same file, exactly one caller applies
// it; the other is told it already happened (same data) or refused. The
// threaded races run on both backends.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::Child;
using testing::DataFor;
using testing::FindRule;
using testing::MakeId;
using testing::MakeRecord;
using testing::TempDir;

constexpr int kRounds = 30;

const TransitionRule& SendContent() {
  return *FindRule(Role::kSource, MigrationState::kInitiated,
                   MigrationState::kContentSent);
}

void Race(Store& a, Store& b, Store& creator, uint64_t salt,
          const std::string& tag_b) {
  for (int round = 0; round < kRounds; ++round) {
    std::string id = MakeId(round, salt);
    ASSERT_TRUE(creator
                    .CreateSourceMigration(
                        MakeRecord(id, Role::kSource, "g" + id), "")
                    .ok());
    std::atomic<int> ready{0};
    Result<TransitionOutcome> ra = Status(StatusCode::kInternal, "unset");
    Result<TransitionOutcome> rb = ra;
    auto run = [&](Store& s, Result<TransitionOutcome>* out,
                   const std::string& tag) {
      ready.fetch_add(1);
      while (ready.load() < 2) {
      }
      const TransitionRule& r = SendContent();
      *out = s.Transition(id, Role::kSource, r.from, r.to, DataFor(r, tag));
    };
    std::thread ta(run, std::ref(a), &ra, "v1");
    std::thread tb(run, std::ref(b), &rb, tag_b);
    ta.join();
    tb.join();
    int applied = (ra.ok() && *ra == TransitionOutcome::kApplied) +
                  (rb.ok() && *rb == TransitionOutcome::kApplied);
    ASSERT_EQ(applied, 1) << ra.status().ToString() << " / "
                          << rb.status().ToString();
    const auto& loser = (ra.ok() && *ra == TransitionOutcome::kApplied) ? rb : ra;
    if (tag_b == "v1") {
      ASSERT_TRUE(loser.ok()) << loser.status().ToString();
      EXPECT_EQ(*loser, TransitionOutcome::kAlreadyApplied);
    } else {
      EXPECT_EQ(loser.status().code(), StatusCode::kFailedPrecondition);
    }
    EXPECT_EQ(creator.Events(id, Role::kSource)->size(), 2u);
  }
}

// On each backend (testing/store_backend.h): two stores on one database
// are two connections (SQLite) or two pools (PostgreSQL, as two instances).
class StoreRaceTest : public ::mimi::testing::StoreBackendTest {
 protected:
  void SetUp() override { OpenStore("s.db"); }
};

TEST_P(StoreRaceTest, TwoConnectionsInTwoThreadsExactlyOneWins) {
  std::unique_ptr<Store> b = OpenAnother("s.db");
  ASSERT_NE(b, nullptr);
  Race(*store_, *b, *store_, 1, "v1");
  // With different data the loser is refused, not told "already applied".
  Race(*store_, *b, *store_, 2, "v2");
}

TEST_P(StoreRaceTest, OneSharedStoreInTwoThreadsExactlyOneWins) {
  Race(*store_, *store_, *store_, 3, "v1");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreRaceTest,
                         ::testing::ValuesIn(::mimi::testing::kAllStoreBackends),
                         ::mimi::testing::StoreBackendName);

// SQLite's own: two processes on one file.
TEST(StoreRaceProcessTest, TwoProcessesExactlyOneWins) {
  TempDir dir;
  std::string path = dir.File("s.db");
  FakeClock clock;
  auto store = SqliteStore::Open(path, clock);
  ASSERT_TRUE(store.ok());
  for (int round = 0; round < 10; ++round) {
    std::string id = MakeId(round, 4);
    ASSERT_TRUE((*store)
                    ->CreateSourceMigration(
                        MakeRecord(id, Role::kSource, "g" + id), "")
                    .ok());
    Child p1({MIMI_STORE_HELPER, "race", path, id, "initiated",
              "content-sent"});
    Child p2({MIMI_STORE_HELPER, "race", path, id, "initiated",
              "content-sent"});
    ASSERT_TRUE(p1.started() && p2.started());
    // Both have opened the file by the time the gun fires only if we wait;
    // opening is cheap, and a late starter still races the commit.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    p1.Send('g');
    p2.Send('g');
    p1.ReadToEnd();
    p2.ReadToEnd();
    EXPECT_EQ(p1.Wait(), 0);
    EXPECT_EQ(p2.Wait(), 0);
    std::multiset<std::string> outcomes{p1.buffer(), p2.buffer()};
    EXPECT_EQ(outcomes.count("applied\n"), 1u) << p1.buffer() << p2.buffer();
    EXPECT_EQ(outcomes.count("already-applied\n"), 1u);
    EXPECT_EQ((*store)->Events(id, Role::kSource)->size(), 2u);
  }
}

}  // namespace
}  // namespace mimi::store
