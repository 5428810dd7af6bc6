// Racing one transition: from two threads (two connections and one shared
// store) and from two processes on the same file, exactly one caller applies
// it; the other is told it already happened (same data) or refused.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "store/sqlite_store.h"
#include "store_testing.h"

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

TEST(StoreRaceTest, TwoConnectionsInTwoThreadsExactlyOneWins) {
  TempDir dir;
  FakeClock clock;
  auto a = SqliteStore::Open(dir.File("s.db"), clock);
  auto b = SqliteStore::Open(dir.File("s.db"), clock);
  ASSERT_TRUE(a.ok() && b.ok());
  Race(**a, **b, **a, 1, "v1");
  // With different data the loser is refused, not told "already applied".
  Race(**a, **b, **a, 2, "v2");
}

TEST(StoreRaceTest, OneSharedStoreInTwoThreadsExactlyOneWins) {
  TempDir dir;
  FakeClock clock;
  auto a = SqliteStore::Open(dir.File("s.db"), clock);
  ASSERT_TRUE(a.ok());
  Race(**a, **a, **a, 3, "v1");
}

TEST(StoreRaceTest, TwoProcessesExactlyOneWins) {
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
