// Several instances on one PostgreSQL database (issue 18 item 3): the
// recovery scan's claim of due rows (Store::ClaimDueKeys) and the lease take
// (Store::AcquireLease) lock rows with FOR UPDATE SKIP LOCKED, so that
//  * two stores of two lease holders claiming at once over many rows claim
//    every due row exactly once per round, whatever the interleaving;
//  * a row another transaction has locked is skipped by the claim and
//    refused by the lease take at once, not waited for (each case is bounded
//    by kNoWait and lets the blocker go if the call did wait, so that a
//    regression fails instead of hanging);
//  * the driver of the claiming holder takes its claim over, a driver of
//    another holder is refused, and a superseded holder claims nothing.
// PostgreSQL only (SQLite has one process per database and claims nothing;
// its default is covered by the recovery loop tests); skipped without
// MIMI_TEST_PG_URL (testing/store_backend.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/pg/pg_connection.h"
#include "store_testing.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::MakeId;
using testing::MakeRecord;
using ::mimi::testing::StoreBackend;
using ::mimi::testing::StoreBackendTest;

constexpr int64_t kClaimLeaseMs = 60'000;
constexpr int64_t kClaimAliveMs = 600'000;
// A call that does not wait for a lock returns in milliseconds; one that
// waits would wait until the blocker lets go.
constexpr auto kNoWait = std::chrono::seconds(10);

class PgClaimsTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    OpenStore();
    if (store_ == nullptr) return;
    other_ = OpenAnother("unused");
    ASSERT_NE(other_, nullptr);
    auto a = store_->RegisterLeaseHolder("node-a", "host", 1, kClaimAliveMs);
    auto b = other_->RegisterLeaseHolder("node-b", "host", 2, kClaimAliveMs);
    ASSERT_TRUE(a.ok() && b.ok());
    holder_a_ = a->holder_id;
    holder_b_ = b->holder_id;
  }
  void TearDown() override { other_.reset(); }

  void CreateRows(int n) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE(store_
                      ->CreateSourceMigration(
                          MakeRecord(MakeId(i), Role::kSource,
                                     "claims-g" + std::to_string(i)),
                          "created")
                      .ok());
    }
  }
  // A connection of its own holding the row lock of migration `row` in an
  // open transaction, as another instance's write would.
  std::unique_ptr<pg::PgConnection> LockRow(int row) {
    auto c = pg::PgConnection::Open({pg_schema_->url(), "", 10});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    EXPECT_TRUE((*c)->Exec("begin", "BEGIN").ok());
    auto r = (*c)->Exec("lock", "SELECT id FROM migrations WHERE id = '" +
                                    MakeId(row) +
                                    "' AND role = 'source' FOR UPDATE");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.ok() ? r->rows() : 0, 1);
    return std::move(c).value();
  }

  std::unique_ptr<Store> other_;
  std::string holder_a_;
  std::string holder_b_;
};

// Claims pages of `page` rows until none is left; every key claimed.
std::vector<std::string> ClaimAll(Store& store, const std::string& holder,
                                  int page) {
  std::vector<std::string> out;
  for (int bound = 0; bound < 10'000; ++bound) {
    auto claim =
        store.ClaimDueKeys(nullptr, page, ClaimOwnerOf(holder), kClaimLeaseMs);
    EXPECT_TRUE(claim.ok()) << claim.status().ToString();
    if (!claim.ok() || claim->keys.empty()) break;
    EXPECT_TRUE(claim->leased);
    for (const auto& k : claim->keys) out.push_back(k.id);
  }
  return out;
}

TEST_P(PgClaimsTest, TwoInstancesClaimEveryDueRowOncePerRound) {
  constexpr int kClaimRows = 300;
  constexpr int kClaimRounds = 3;
  CreateRows(kClaimRows);
  for (int round = 0; round < kClaimRounds; ++round) {
    std::vector<std::string> by_a, by_b;
    // Small pages, so that the two claim interleave many times.
    std::thread a([&] { by_a = ClaimAll(*store_, holder_a_, 7); });
    std::thread b([&] { by_b = ClaimAll(*other_, holder_b_, 5); });
    a.join();
    b.join();
    std::map<std::string, int> times;
    for (const auto& id : by_a) ++times[id];
    for (const auto& id : by_b) ++times[id];
    EXPECT_EQ(times.size(), static_cast<size_t>(kClaimRows))
        << "round " << round;
    int doubled = 0;
    for (const auto& [id, n] : times) doubled += n > 1 ? 1 : 0;
    EXPECT_EQ(doubled, 0) << "round " << round;
    // Each row carries the lease of the one that claimed it.
    std::set<std::string> of_a(by_a.begin(), by_a.end());
    for (int i : {1, kClaimRows / 2, kClaimRows}) {
      auto row = store_->Get(MakeId(i), Role::kSource);
      ASSERT_TRUE(row.ok());
      EXPECT_EQ(row->lease_owner,
                ClaimOwnerOf(of_a.count(MakeId(i)) ? holder_a_ : holder_b_));
    }
    // Nothing is due while the claims last; all of it once they lapse.
    EXPECT_TRUE(ClaimAll(*store_, holder_a_, 50).empty());
    clock_.Advance(kClaimLeaseMs);
  }
}

TEST_P(PgClaimsTest, ClaimSkipsARowLockedElsewhereInsteadOfWaiting) {
  CreateRows(5);
  auto blocker = LockRow(3);
  ASSERT_NE(blocker, nullptr);
  auto claim = std::async(std::launch::async, [&] {
    return store_->ClaimDueKeys(nullptr, 100, ClaimOwnerOf(holder_a_),
                                kClaimLeaseMs);
  });
  const bool waited = claim.wait_for(kNoWait) != std::future_status::ready;
  ASSERT_TRUE(blocker->Exec("rollback", "ROLLBACK").ok());
  auto got = claim.get();
  ASSERT_FALSE(waited) << "the claim waited for a locked row";
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<std::string> ids;
  for (const auto& k : got->keys) ids.push_back(k.id);
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> want = {MakeId(1), MakeId(2), MakeId(4), MakeId(5)};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ids, want);
  // Released, the skipped row is claimable at once.
  auto again = store_->ClaimDueKeys(nullptr, 100, ClaimOwnerOf(holder_a_),
                                    kClaimLeaseMs);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->keys.size(), 1u);
  EXPECT_EQ(again->keys[0].id, MakeId(3));
}

TEST_P(PgClaimsTest, LeaseTakeOnARowLockedElsewhereIsBusyAtOnce) {
  CreateRows(2);
  auto blocker = LockRow(1);
  ASSERT_NE(blocker, nullptr);
  auto take = std::async(std::launch::async, [&] {
    return store_->AcquireLease(MakeId(1), Role::kSource, holder_a_ + "#1",
                                kClaimLeaseMs);
  });
  const bool waited = take.wait_for(kNoWait) != std::future_status::ready;
  ASSERT_TRUE(blocker->Exec("rollback", "ROLLBACK").ok());
  Status s = take.get();
  ASSERT_FALSE(waited) << "the lease take waited for a locked row";
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  auto row = store_->Get(MakeId(1), Role::kSource);
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->lease_owner.has_value()) << "a busy take wrote nothing";
  EXPECT_TRUE(store_->AcquireLease(MakeId(1), Role::kSource, holder_a_ + "#1",
                                   kClaimLeaseMs)
                  .ok());
  // No such row is still told apart from a busy one.
  EXPECT_EQ(store_->AcquireLease(MakeId(99), Role::kSource, holder_a_ + "#1",
                                 kClaimLeaseMs)
                .code(),
            StatusCode::kNotFound);
}

TEST_P(PgClaimsTest, OnlyTheClaimingHoldersDriverTakesTheClaimOver) {
  CreateRows(2);
  auto claim = store_->ClaimDueKeys(nullptr, 10, ClaimOwnerOf(holder_a_),
                                    kClaimLeaseMs);
  ASSERT_TRUE(claim.ok());
  ASSERT_EQ(claim->keys.size(), 2u);
  EXPECT_EQ(other_->AcquireLease(MakeId(1), Role::kSource, holder_b_ + "#1",
                                 kClaimLeaseMs)
                .code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->AcquireLease(MakeId(1), Role::kSource, holder_a_ + "#4",
                                   kClaimLeaseMs)
                  .ok());
  auto row = store_->Get(MakeId(1), Role::kSource);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->lease_owner, holder_a_ + "#4");
  // Releasing the claim after the driver took it over changes nothing.
  ASSERT_TRUE(
      store_->ReleaseLease(MakeId(1), Role::kSource, ClaimOwnerOf(holder_a_))
          .ok());
  row = store_->Get(MakeId(1), Role::kSource);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->lease_owner, holder_a_ + "#4");
  // A superseded holder claims nothing; its successor may.
  ASSERT_TRUE(
      store_->RegisterLeaseHolder("node-a", "host", 3, kClaimAliveMs).ok());
  clock_.Advance(kClaimLeaseMs);
  EXPECT_EQ(store_
                ->ClaimDueKeys(nullptr, 10, ClaimOwnerOf(holder_a_),
                               kClaimLeaseMs)
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
}

INSTANTIATE_TEST_SUITE_P(Backends, PgClaimsTest,
                         ::testing::Values(StoreBackend::kPostgresql),
                         ::mimi::testing::StoreBackendName);

}  // namespace
}  // namespace mimi::store
