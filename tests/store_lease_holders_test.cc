// Lease holders in the store (docs/protocol.md §4 "Lease ownership"): a new
// incarnation ends the earlier ones of its instance and takes their leases
// over at once; a live holder's unexpired lease is never taken, by another
// instance or by the reclaim; a holder whose heartbeat lapsed is dead and
// its leases are reclaimable, but never by itself; a superseded holder
// takes no new lease; the reclaim reports exactly the leases it freed.
// Each on both backends (testing/store_backend.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::MakeId;
using testing::MakeRecord;
using testing::TempDir;
using ::mimi::testing::StoreBackendTest;

constexpr int64_t kHolderLeaseMs = 600'000;  // far longer than any wait below
constexpr int64_t kHolderAliveMs = 6'000;

class LeaseHoldersTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    OpenStore("h.db");
    if (store_ == nullptr) return;
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE(store_
                      ->CreateSourceMigration(
                          MakeRecord(MakeId(i), Role::kSource, "g" + std::to_string(i)),
                          "created")
                      .ok());
    }
  }
  LeaseHolder Register(const std::string& instance) {
    auto h = store_->RegisterLeaseHolder(instance, "host", 42, kHolderAliveMs);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : LeaseHolder{};
  }
  Status Lease(int row, const LeaseHolder& h, int n = 1) {
    return store_->AcquireLease(MakeId(row), Role::kSource,
                                h.holder_id + "#" + std::to_string(n), kHolderLeaseMs);
  }
  // As the recovery loop of `self` does.
  std::vector<ReclaimedLease> Reclaim(const std::string& self = "observer/1") {
    auto r = store_->ReclaimDeadLeases(self);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<ReclaimedLease>{};
  }

};

TEST_P(LeaseHoldersTest, IncarnationsCountUpAndEndTheEarlierOnes) {
  LeaseHolder first = Register("node-a");
  EXPECT_EQ(first.holder_id, "node-a/1");
  EXPECT_EQ(first.incarnation, 1);
  EXPECT_EQ(first.alive_until, clock_.NowMillis() + kHolderAliveMs);
  EXPECT_TRUE(first.AliveAt(clock_.NowMillis()));
  LeaseHolder other = Register("node-b");
  EXPECT_EQ(other.holder_id, "node-b/1");
  ASSERT_TRUE(Lease(1, first).ok());  // keeps node-a/1 listed once dead
  LeaseHolder second = Register("node-a");
  EXPECT_EQ(second.holder_id, "node-a/2");

  auto holders = store_->ListLeaseHolders();
  ASSERT_TRUE(holders.ok());
  ASSERT_EQ(holders->size(), 3u);
  // node-a/1 ended by node-a/2's start, though its heartbeat is fresh.
  EXPECT_EQ((*holders)[0].holder_id, "node-a/1");
  EXPECT_EQ((*holders)[0].ended_at, clock_.NowMillis());
  EXPECT_FALSE((*holders)[0].AliveAt(clock_.NowMillis()));
  EXPECT_TRUE((*holders)[1].AliveAt(clock_.NowMillis()));  // node-a/2
  EXPECT_TRUE((*holders)[2].AliveAt(clock_.NowMillis()));  // node-b/1
  EXPECT_EQ((*holders)[2].pid, 42);
  EXPECT_EQ((*holders)[2].host, "host");

  // An ended holder's heartbeat is refused: it learns it was superseded.
  EXPECT_EQ(store_->HeartbeatLeaseHolder("node-a/1", kHolderAliveMs).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->HeartbeatLeaseHolder("node-z/1", kHolderAliveMs).code(),
            StatusCode::kNotFound);

  // Restarts do not pile up holders: a dead one that holds nothing is
  // forgotten at the next registration, the latest incarnation stays.
  ASSERT_TRUE(store_->ReleaseLease(MakeId(1), Role::kSource, "node-a/1#1").ok());
  EXPECT_EQ(Register("node-a").holder_id, "node-a/3");
  EXPECT_EQ(Register("node-a").holder_id, "node-a/4");
  holders = store_->ListLeaseHolders();
  ASSERT_EQ(holders->size(), 2u);
  EXPECT_EQ((*holders)[0].holder_id, "node-a/4");
  EXPECT_EQ((*holders)[1].holder_id, "node-b/1");
}

TEST_P(LeaseHoldersTest, BadInstanceIdsAreRefusedAndChangeNothing) {
  for (const char* bad : {"", "a/b", "a#1"}) {
    auto h = store_->RegisterLeaseHolder(bad, "host", 1, kHolderAliveMs);
    EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store_->RegisterLeaseHolder("ok", "host", 1, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ListLeaseHolders()->empty());
}

TEST_P(LeaseHoldersTest, ARestartTakesOverItsOwnEarlierIncarnationsLeasesAtOnce) {
  LeaseHolder dead = Register("node-a");
  ASSERT_TRUE(Lease(1, dead).ok());
  ASSERT_TRUE(Lease(2, dead, 2).ok());
  EXPECT_EQ(store_->Get(MakeId(1), Role::kSource)->lease_holder, dead.holder_id);
  // Killed with -9 a moment ago: its heartbeat is still fresh, its leases
  // have ten minutes to run.
  clock_.Advance(100);
  LeaseHolder next = Register("node-a");
  EXPECT_EQ(Lease(1, next).code(), StatusCode::kFailedPrecondition)
      << "before the reclaim the row is still leased";

  std::vector<ReclaimedLease> got = Reclaim();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, MakeId(1));
  EXPECT_EQ(got[0].owner, dead.holder_id + "#1");
  EXPECT_EQ(got[0].holder_id, dead.holder_id);
  EXPECT_EQ(got[0].expires_at, dead.started_at + kHolderLeaseMs);
  EXPECT_EQ(got[1].id, MakeId(2));
  auto row = store_->Get(MakeId(1), Role::kSource);
  EXPECT_FALSE(row->lease_owner.has_value());
  EXPECT_FALSE(row->lease_holder.has_value());
  EXPECT_EQ(store_->ListDue(10)->size(), 3u) << "the freed rows are due now";
  EXPECT_TRUE(Lease(1, next).ok());
  EXPECT_TRUE(Reclaim().empty()) << "each lease is reclaimed once";
  // The dead incarnation holds nothing now and is forgotten; the latest
  // stays (incarnations are never reused).
  auto holders = store_->ListLeaseHolders();
  ASSERT_EQ(holders->size(), 1u);
  EXPECT_EQ((*holders)[0].holder_id, "node-a/2");
}

TEST_P(LeaseHoldersTest, ALiveOtherInstancesLeaseIsNeverTaken) {
  LeaseHolder a = Register("node-a");
  LeaseHolder b = Register("node-b");
  ASSERT_TRUE(Lease(1, a).ok());
  // Heartbeats keep a alive well past its first alive time; with nothing
  // to take over, a reclaim does not even write (SQLite counts the writer's
  // jobs; PostgreSQL's reclaim writes nothing either, but nothing counts it).
  auto* sqlite = dynamic_cast<SqliteStore*>(store_.get());
  const uint64_t jobs = sqlite ? sqlite->writer()->Stats().jobs : 0;
  EXPECT_TRUE(Reclaim().empty());
  if (sqlite) {
    EXPECT_EQ(sqlite->writer()->Stats().jobs, jobs);
  }
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(kHolderAliveMs / 2);
    ASSERT_TRUE(store_->HeartbeatLeaseHolder(a.holder_id, kHolderAliveMs).ok());
    ASSERT_TRUE(store_->HeartbeatLeaseHolder(b.holder_id, kHolderAliveMs).ok());
    EXPECT_TRUE(Reclaim().empty());
    Status s = Lease(1, b);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  }
  EXPECT_EQ(store_->Get(MakeId(1), Role::kSource)->lease_owner,
            a.holder_id + "#1");
  // A restart of b ends b's own incarnation only.
  Register("node-b");
  EXPECT_TRUE(Reclaim().empty());
  EXPECT_EQ(store_->Get(MakeId(1), Role::kSource)->lease_owner,
            a.holder_id + "#1");
}

TEST_P(LeaseHoldersTest, AStaleHeartbeatMakesTheLeasesReclaimable) {
  LeaseHolder a = Register("node-a");
  LeaseHolder b = Register("node-b");
  ASSERT_TRUE(Lease(1, a).ok());
  ASSERT_TRUE(Lease(3, b).ok());
  // b keeps beating; a stops (its process hangs or died elsewhere).
  clock_.Advance(kHolderAliveMs - 1);
  ASSERT_TRUE(store_->HeartbeatLeaseHolder(b.holder_id, kHolderAliveMs).ok());
  EXPECT_TRUE(Reclaim().empty()) << "1 ms before a's heartbeat lapses";
  clock_.Advance(1);
  std::vector<ReclaimedLease> got = Reclaim();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, MakeId(1));
  EXPECT_EQ(got[0].holder_id, a.holder_id);
  EXPECT_EQ(store_->Get(MakeId(3), Role::kSource)->lease_owner,
            b.holder_id + "#1")
      << "the live holder keeps its lease";
  EXPECT_TRUE(Lease(1, b, 2).ok());
  // a was only late: it may lease again, and its next heartbeat makes it
  // alive for the others too.
  EXPECT_TRUE(Lease(2, a).ok());
  ASSERT_TRUE(store_->HeartbeatLeaseHolder(a.holder_id, kHolderAliveMs).ok());
  EXPECT_TRUE(Reclaim().empty());
}

// A process is alive while it asks, however late its heartbeat (a stalled
// disk, or a test's clock jumping ahead): its own recovery loop must not
// take its workers' leases and drive the rows a second time.
TEST_P(LeaseHoldersTest, AHolderNeverTakesOverItsOwnLeases) {
  LeaseHolder a = Register("node-a");
  ASSERT_TRUE(Lease(1, a).ok());
  clock_.Advance(kHolderAliveMs * 10);
  EXPECT_TRUE(Reclaim(a.holder_id).empty());
  EXPECT_EQ(store_->Get(MakeId(1), Role::kSource)->lease_owner,
            a.holder_id + "#1");
  EXPECT_EQ(Reclaim("node-b/1").size(), 1u) << "another instance does";
}

// A later incarnation started: the earlier one, should it still run (two
// processes given one instance id), takes no new lease, not even a free one.
TEST_P(LeaseHoldersTest, ASupersededHolderTakesNoNewLease) {
  LeaseHolder a = Register("node-a");
  Register("node-a");
  // Its row is forgotten (it holds nothing); the later incarnation is what
  // refuses it.
  EXPECT_EQ(store_->ListLeaseHolders()->size(), 1u);
  Status s = Lease(2, a);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.detail().find("has ended"), std::string::npos) << s.detail();
  EXPECT_FALSE(store_->Get(MakeId(2), Role::kSource)->lease_owner.has_value());
  // A clean stop ends a holder as well.
  LeaseHolder b = Register("node-b");
  ASSERT_TRUE(store_->EndLeaseHolder(b.holder_id).ok());
  EXPECT_EQ(Lease(2, b).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->AcquireLease(MakeId(2), Role::kSource, "tool/x#1",
                                   kHolderLeaseMs).ok())
      << "an owner that names no incarnation is not checked";
}

TEST_P(LeaseHoldersTest, AnExpiredLeaseIsNotCountedAndAnUnknownHolderWaits) {
  LeaseHolder a = Register("node-a");
  ASSERT_TRUE(store_->AcquireLease(MakeId(1), Role::kSource, a.holder_id + "#1",
                                   1000).ok());
  // A lease from before schema step 5 names no registered holder.
  ASSERT_TRUE(store_->AcquireLease(MakeId(2), Role::kSource,
                                   "oldhost:123:abcdef#7", kHolderLeaseMs).ok());
  EXPECT_EQ(store_->Get(MakeId(2), Role::kSource)->lease_holder,
            "oldhost:123:abcdef");
  clock_.Advance(kHolderAliveMs);  // a is dead; its lease ran out before
  EXPECT_TRUE(Reclaim().empty());
  EXPECT_EQ(store_->ListDue(10)->size(), 2u)
      << "the expired lease is free anyway; the unknown holder's waits";
}

TEST_P(LeaseHoldersTest, AnEndedHolderIsDeadAtOnce) {
  LeaseHolder a = Register("node-a");
  ASSERT_TRUE(Lease(1, a).ok());
  ASSERT_TRUE(store_->EndLeaseHolder(a.holder_id).ok());
  EXPECT_EQ(Reclaim().size(), 1u);
}

// Every recovery scan asks for dead holders' leases; the question must
// cost the leased rows, not the table. With 1,500 unleased rows, the
// scan of the table read 98 pages; through the lease-holder index it reads
// a handful.
TEST(LeaseHoldersSqliteTest, TheReclaimQueryReadsTheLeasedRowsOnly) {
  TempDir dir;
  FakeClock clock;
  auto store = SqliteStore::Open(dir.File("big.db"), clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  constexpr int kRows = 1500;
  for (int i = 1; i <= kRows; ++i) {
    ASSERT_TRUE(
        (*store)
            ->CreateSourceMigration(MakeRecord(MakeId(i), Role::kSource,
                                               "group-" + std::to_string(i)),
                                    "created")
            .ok());
  }
  auto holder = (*store)->RegisterLeaseHolder("node-a", "host", 1, 6'000);
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE((*store)
                  ->AcquireLease(MakeId(7), Role::kSource,
                                 holder->holder_id + "#1", kHolderLeaseMs)
                  .ok());
  // The reader's cache is stale after those writes: what it reads next
  // comes from the file.
  const int64_t before = (*store)->PagesReadForTesting().value();
  auto none = (*store)->ReclaimDeadLeases("observer/1");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty()) << "a live holder's lease is not taken";
  const int64_t pages = (*store)->PagesReadForTesting().value() - before;
  EXPECT_LE(pages, 12) << "the reclaim query read " << pages << " pages";
  // And it still finds the lease once its holder is dead.
  clock.Advance(7'000);
  auto taken = (*store)->ReclaimDeadLeases("observer/1");
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].id, MakeId(7));
}

TEST(LeaseHolderOfTest, IsTheOwnerUpToItsLastHash) {
  EXPECT_EQ(LeaseHolderOf("node-a/3#17"), "node-a/3");
  EXPECT_EQ(LeaseHolderOf("worker"), "worker");
  EXPECT_EQ(LeaseHolderOf("a#b#c"), "a#b");
}

INSTANTIATE_TEST_SUITE_P(Backends, LeaseHoldersTest,
                         ::testing::ValuesIn(::mimi::testing::kAllStoreBackends),
                         ::mimi::testing::StoreBackendName);

}  // namespace
}  // namespace mimi::store
