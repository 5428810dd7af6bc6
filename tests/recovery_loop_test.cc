// RecoveryLoop: one scan takes up a whole backlog (more rows than a page of
// ListDueKeys), never takes up a row that is already waiting or running,
// leaves leased rows alone, and feeds the shared worker queue a few jobs at
// a time so that a finished job frees its row for a later scan. Runs the
// loop's scans by hand on a SqliteStore and an EmbeddedDs in a temporary
// directory, with a fake clock; a worker queue without threads keeps every
// job waiting where a test needs the rows to stay taken up.
#include "protocol/recovery_loop.h"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "embedded_ds/embedded_ds.h"
#include "protocol/held_leases.h"
#include "protocol/lease.h"
#include "store/sqlite_store.h"
#include "store_testing.h"

namespace mimi::protocol {
namespace {

using store::MigrationState;
using store::Role;
using store::testing::MakeId;
using store::testing::MakeRecord;

constexpr UnixMillis kStart = 1'700'000'000'000;

class RecoveryLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(kStart);
    auto store = store::SqliteStore::Open(dir_.File("mimi.db"), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto ds = embedded_ds::EmbeddedDs::Open(dir_.File("mimi.db"), clock_);
    ASSERT_TRUE(ds.ok()) << ds.status().ToString();
    ds_ = std::move(*ds);
    ctx_.domain = "source.example";
    ctx_.options = &options_;
    ctx_.backoff = &backoff_;
    ctx_.store = store_.get();
    ctx_.ds = ds_.get();
    ctx_.clock = &clock_;
    ctx_.lease_holder = "test/1";
  }

  void AddSourceRows(int n) {
    for (int i = 0; i < n; ++i) {
      auto r = MakeRecord(MakeId(i), Role::kSource, "group-" + std::to_string(i));
      ASSERT_TRUE(store_->CreateSourceMigration(r, "test").ok());
    }
  }

  store::testing::TempDir dir_;
  FakeClock clock_;
  ProtocolOptions options_;
  Backoff backoff_{options_.recovery.backoff, clock_, [] { return 0.5; }};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<embedded_ds::EmbeddedDs> ds_;
  ProtocolContext ctx_;
};

TEST_F(RecoveryLoopTest, ListDueKeysPagesThroughEveryDueRowOnce) {
  AddSourceRows(25);
  clock_.Advance(1);
  std::vector<std::string> seen;
  std::optional<store::DueKey> after;
  for (;;) {
    auto page = store_->ListDueKeys(after ? &*after : nullptr, 7);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& k : *page) seen.push_back(k.id);
    if (page->size() < 7) break;
    after = page->back();
  }
  ASSERT_EQ(seen.size(), 25u);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
}

TEST_F(RecoveryLoopTest, OneScanTakesUpMoreThanAPageAndNeverTwice) {
  const int n = RecoveryLoop::kPage + 300;
  AddSourceRows(n);
  clock_.Advance(1);
  WorkQueue no_workers(0);  // jobs wait: every row stays taken up
  SourceService source(ctx_, no_workers);
  TargetService target(ctx_);
  RecoveryLoop loop(ctx_, source, target, no_workers, /*max_outstanding=*/4);

  auto first = loop.ScanOnce();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, n);
  RecoveryStats s = loop.stats();
  EXPECT_EQ(s.scheduled_total, n);
  EXPECT_EQ(s.first_pass_rows, n);
  EXPECT_NE(s.first_pass_done_at, 0);
  EXPECT_EQ(s.outstanding, 4u) << "only a few jobs on the shared queue";
  EXPECT_EQ(s.waiting, static_cast<size_t>(n - 4));

  auto second = loop.ScanOnce();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 0) << "rows waiting or running are not taken up again";
  EXPECT_EQ(loop.stats().scheduled_total, n);
  loop.Stop();
  EXPECT_EQ(loop.stats().waiting, 0u) << "Stop drops the waiting rows";
}

TEST_F(RecoveryLoopTest, LeasedRowsWaitForTheirLease) {
  AddSourceRows(3);
  clock_.Advance(1);
  ASSERT_TRUE(
      store_->AcquireLease(MakeId(1), Role::kSource, "other:9#1", 5000).ok());
  WorkQueue no_workers(0);
  SourceService source(ctx_, no_workers);
  TargetService target(ctx_);
  RecoveryLoop loop(ctx_, source, target, no_workers);
  EXPECT_EQ(*loop.ScanOnce(), 2);
  clock_.Advance(5001);  // the other holder's lease lapses
  EXPECT_EQ(*loop.ScanOnce(), 1);
}

// A kill -9 leaves the rows its drivers held leased for lease_ms; the
// restarted daemon (a new incarnation of the same instance) takes them up
// in its first scan, counts them, and leaves a live peer's lease alone.
TEST_F(RecoveryLoopTest, TheFirstScanTakesUpTheLeasesOfDeadHolders) {
  AddSourceRows(4);
  auto dead = store_->RegisterLeaseHolder("node-a", "h", 1, 6000);
  auto peer = store_->RegisterLeaseHolder("node-b", "h", 2, 6000);
  ASSERT_TRUE(dead.ok() && peer.ok());
  constexpr int64_t kLongLease = 600'000;
  for (int i : {0, 1}) {
    ASSERT_TRUE(store_->AcquireLease(MakeId(i), Role::kSource,
                                     dead->holder_id + "#" + std::to_string(i),
                                     kLongLease).ok());
  }
  ASSERT_TRUE(store_->AcquireLease(MakeId(2), Role::kSource,
                                   peer->holder_id + "#1", kLongLease).ok());
  clock_.Advance(100);
  auto restarted = store_->RegisterLeaseHolder("node-a", "h", 3, 6000);
  ASSERT_TRUE(restarted.ok());
  ctx_.lease_holder = restarted->holder_id;

  WorkQueue no_workers(0);
  SourceService source(ctx_, no_workers);
  TargetService target(ctx_);
  {
    // The behaviour before lease holders: only the free row is due.
    options_.recovery.reclaim_dead_leases = false;
    RecoveryLoop loop(ctx_, source, target, no_workers);
    EXPECT_EQ(*loop.ScanOnce(), 1);
    EXPECT_EQ(loop.stats().reclaimed_total, 0);
    loop.Stop();
  }
  options_.recovery.reclaim_dead_leases = true;
  RecoveryLoop loop(ctx_, source, target, no_workers);
  EXPECT_EQ(*loop.ScanOnce(), 3) << "rows 0 and 1 (reclaimed) and row 3";
  EXPECT_EQ(loop.stats().reclaimed_total, 2);
  EXPECT_EQ(store_->Get(MakeId(2), Role::kSource)->lease_owner,
            peer->holder_id + "#1")
      << "a live peer's lease is not taken";
  EXPECT_EQ(*loop.ScanOnce(), 0);
  EXPECT_EQ(loop.stats().reclaimed_total, 2) << "each lease counted once";
}

TEST_F(RecoveryLoopTest, FinishedJobsFreeTheirRowsAndFeedTheQueue) {
  // Target nonces that expire unused: each job moves its row to expired.
  const int n = 20;
  for (int i = 0; i < n; ++i) {
    auto r = MakeRecord(MakeId(i, 1), Role::kTarget, "tgroup-" + std::to_string(i));
    ASSERT_TRUE(store_->CreateTargetMigration(r, kStart + 10, "test").ok());
  }
  clock_.Advance(11);
  WorkQueue workers(2);
  SourceService source(ctx_, workers);
  TargetService target(ctx_);
  RecoveryLoop loop(ctx_, source, target, workers, /*max_outstanding=*/2);
  EXPECT_EQ(*loop.ScanOnce(), n);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    RecoveryStats s = loop.stats();
    if (s.waiting == 0 && s.outstanding == 0) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "jobs never finished";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int i = 0; i < n; ++i) {
    auto row = store_->Get(MakeId(i, 1), Role::kTarget);
    ASSERT_TRUE(row.ok());
    EXPECT_EQ(row->state, MigrationState::kExpired) << i;
  }
  EXPECT_EQ(*loop.ScanOnce(), 0) << "finished rows are no longer due";
  loop.Stop();
  workers.Shutdown();
}

// A DS that holds every group for the migration `holder` (the target
// imported it but did not record it): ExpireIfDue refuses with
// content-pending, a failure the recovery loop must back off from.
class HeldGroupDs final : public DeliveryService {
 public:
  explicit HeldGroupDs(std::string holder) : holder_(std::move(holder)) {}
  // Each group held for its own migration: group -> migration id.
  explicit HeldGroupDs(std::map<Bytes, std::string> holders)
      : holders_(std::move(holders)) {}
  Result<GroupSummary> LookupGroup(ByteSpan group_id) override {
    GroupSummary g;
    g.group_id.assign(group_id.begin(), group_id.end());
    auto it = holders_.find(g.group_id);
    g.migration_id = it != holders_.end() ? it->second : holder_;
    return g;
  }
  Result<Tombstone> LookupTombstone(ByteSpan) override { return Unused(); }
  Result<Bytes> MemberSignatureKey(ByteSpan, uint32_t) override { return Unused(); }
  Status Freeze(ByteSpan, uint64_t, std::string_view) override { return Unused(); }
  Status Unfreeze(ByteSpan, std::string_view) override { return Unused(); }
  Result<Bytes> ExportGroupState(ByteSpan, ByteSpan, std::string_view) override {
    return Unused();
  }
  Status ImportGroupState(ByteSpan, std::string_view) override { return Unused(); }
  Status FanOutCommit(ByteSpan, ByteSpan, std::string_view) override {
    return Unused();
  }
  Status DeleteGroup(ByteSpan, const Tombstone&, std::string_view) override {
    return Unused();
  }

 private:
  static Status Unused() { return InternalError("not used by this test"); }
  const std::string holder_;
  const std::map<Bytes, std::string> holders_;
};

// Target rows that fail are retried on the one back-off of both roles:
// full jitter below an exponentially growing ceiling (it used to be a fixed
// backoff_max_ms).
TEST_F(RecoveryLoopTest, TargetRowFailuresGetTheJitteredBackoff) {
  const std::string id = MakeId(1, 2);
  auto r = MakeRecord(id, Role::kTarget, "held-group");
  ASSERT_TRUE(store_->CreateTargetMigration(r, kStart + 10, "test").ok());
  HeldGroupDs held(id);
  ctx_.ds = &held;
  options_.recovery.backoff = {/*initial_ms=*/1000, /*max_ms=*/60'000};
  Backoff backoff(options_.recovery.backoff, clock_, [] { return 0.25; });
  ctx_.backoff = &backoff;
  clock_.Advance(11);
  WorkQueue workers(1);
  SourceService source(ctx_, workers);
  TargetService target(ctx_);
  RecoveryLoop loop(ctx_, source, target, workers);
  auto run_due_row = [&] {
    ASSERT_EQ(*loop.ScanOnce(), 1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (loop.stats().outstanding != 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the job never ran";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };

  run_due_row();
  ASSERT_FALSE(HasFatalFailure());
  auto row = store_->Get(id, Role::kTarget);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->state, MigrationState::kRequested);
  EXPECT_EQ(row->attempt_count, 1);
  EXPECT_NE(row->last_error.find("content-pending"), std::string::npos)
      << row->last_error;
  ASSERT_TRUE(row->next_attempt_at.has_value());
  EXPECT_EQ(*row->next_attempt_at - clock_.NowMillis(), 250)
      << "a quarter (the injected jitter) of the first ceiling, 1000 ms";

  // Due again: the second failure's ceiling has doubled.
  clock_.Advance(250);
  run_due_row();
  ASSERT_FALSE(HasFatalFailure());
  row = store_->Get(id, Role::kTarget);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->attempt_count, 2);
  ASSERT_TRUE(row->next_attempt_at.has_value());
  EXPECT_EQ(*row->next_attempt_at - clock_.NowMillis(), 500);
  loop.Stop();
  workers.Shutdown();
}

// A lease whose release failed (here: another connection held the write
// lock past the busy timeout) is not left to lapse: the process never takes
// over its own live holder's leases, so without a retry the row would sit
// still for the whole lease (recovery.lease_ms), silently. The next scan
// releases it and takes the row up in the same scan.
TEST_F(RecoveryLoopTest, AFailedLeaseReleaseIsRetriedByTheNextScan) {
  store::SqliteStoreOptions quick;
  quick.busy_timeout_ms = 50;
  auto opened = store::SqliteStore::Open(dir_.File("mimi.db"), clock_, quick);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<store::SqliteStore> store = std::move(*opened);
  ctx_.store = store.get();
  HeldLeases held(clock_);
  ctx_.held_leases = &held;
  options_.recovery.lease_ms = 600'000;
  const std::string id = MakeId(7);
  ASSERT_TRUE(
      store->CreateSourceMigration(MakeRecord(id, Role::kSource, "g7"), "test")
          .ok());
  {
    auto leased = LeaseRow(ctx_, id, Role::kSource);
    ASSERT_TRUE(leased.ok()) << leased.status().ToString();
    EXPECT_EQ(held.size(), 1u);
    SQLite::Database blocker(dir_.File("mimi.db"), SQLite::OPEN_READWRITE);
    blocker.exec("BEGIN IMMEDIATE");
    leased->lease.reset();  // the release waits 50 ms, then fails
    blocker.exec("ROLLBACK");
  }
  ASSERT_EQ(held.Orphans().size(), 1u);
  EXPECT_TRUE(store->Get(id, Role::kSource)->lease_owner.has_value())
      << "the failed release left the lease in the store";

  clock_.Advance(1);
  WorkQueue no_workers(0);
  SourceService source(ctx_, no_workers);
  TargetService target(ctx_);
  RecoveryLoop loop(ctx_, source, target, no_workers);
  EXPECT_EQ(*loop.ScanOnce(), 1) << "released and taken up in one scan";
  EXPECT_EQ(loop.stats().releases_retried_total, 1);
  EXPECT_FALSE(store->Get(id, Role::kSource)->lease_owner.has_value());
  EXPECT_EQ(held.size(), 0u);
  loop.Stop();
  ctx_.store = store_.get();
}

// A lease whose row a transition made terminal is gone from the store with
// that transition: letting go of it costs no write, and the process forgets
// it. A lease on a row still moving is released with a write, as before.
TEST_F(RecoveryLoopTest, ALeaseEndedByATerminalTransitionIsLetGoWithoutAWrite) {
  AddSourceRows(2);
  HeldLeases held(clock_);
  ctx_.held_leases = &held;
  const std::string done = MakeId(0), moving = MakeId(1);
  auto leased = LeaseRow(ctx_, done, Role::kSource);
  ASSERT_TRUE(leased.ok()) << leased.status().ToString();
  const auto path =
      store::testing::PathTo(Role::kSource, MigrationState::kPurged);
  ASSERT_TRUE(path.has_value());
  for (const store::TransitionRule* rule : *path) {
    ASSERT_TRUE(store_
                    ->Transition(done, Role::kSource, rule->from, rule->to,
                                 store::testing::DataFor(*rule))
                    .ok());
  }
  EXPECT_FALSE(store_->Get(done, Role::kSource)->lease_owner.has_value());
  const uint64_t jobs = store_->writer()->Stats().jobs;
  leased->lease->EndedByTransition();
  leased->lease.reset();
  EXPECT_EQ(store_->writer()->Stats().jobs, jobs) << "no release written";
  EXPECT_EQ(held.size(), 0u);

  auto other = LeaseRow(ctx_, moving, Role::kSource);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  other->lease.reset();
  EXPECT_EQ(store_->writer()->Stats().jobs, jobs + 2) << "taken, released";
  EXPECT_FALSE(store_->Get(moving, Role::kSource)->lease_owner.has_value());
  EXPECT_EQ(held.size(), 0u);
}

// A driver that holds its lease far longer than a step takes is named (once)
// and counted while it holds it, instead of the row going quiet until the
// lease lapses.
TEST_F(RecoveryLoopTest, ALeaseHeldTooLongIsCountedWhileHeld) {
  HeldLeases held(clock_);
  ctx_.held_leases = &held;
  options_.recovery.lease_ms = 10'000;  // named after 5 s
  AddSourceRows(1);
  WorkQueue no_workers(0);
  SourceService source(ctx_, no_workers);
  TargetService target(ctx_);
  RecoveryLoop loop(ctx_, source, target, no_workers);
  EXPECT_EQ(loop.LongHeldAfterMillis(), 5'000);
  {
    auto leased = LeaseRow(ctx_, MakeId(0), Role::kSource);
    ASSERT_TRUE(leased.ok()) << leased.status().ToString();
    clock_.Advance(4'999);
    ASSERT_TRUE(loop.ScanOnce().ok());
    EXPECT_EQ(loop.stats().held_long, 0);
    clock_.Advance(1);
    ASSERT_TRUE(loop.ScanOnce().ok());
    EXPECT_EQ(loop.stats().held_long, 1);
  }
  ASSERT_TRUE(loop.ScanOnce().ok());
  EXPECT_EQ(loop.stats().held_long, 0) << "released: no longer counted";
  EXPECT_EQ(held.size(), 0u);
  loop.Stop();
}

// A step of the wall clock forward (past the lease) makes a held lease look
// expired to the store; a second driver of the same process must still not
// take it. Without HeldLeases it would (shown first).
TEST_F(RecoveryLoopTest,
       AClockStepForwardStealsNoLeaseFromADriverOfThisProcess) {
  AddSourceRows(1);
  const std::string id = MakeId(0);
  options_.recovery.lease_ms = 2'000;
  constexpr int64_t kDay = 24 * 3600 * 1000;
  {
    auto first = LeaseRow(ctx_, id, Role::kSource);
    ASSERT_TRUE(first.ok());
    clock_.Advance(kDay);
    auto second = LeaseRow(ctx_, id, Role::kSource);
    EXPECT_TRUE(second.ok()) << "untracked, the store alone hands it over";
  }
  HeldLeases held(clock_);
  ctx_.held_leases = &held;
  auto first = LeaseRow(ctx_, id, Role::kSource);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const auto owner = store_->Get(id, Role::kSource)->lease_owner;
  ASSERT_TRUE(owner.has_value());
  clock_.Advance(kDay);
  auto second = LeaseRow(ctx_, id, Role::kSource);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.status().reason(), reason::kBusy);
  EXPECT_EQ(store_->Get(id, Role::kSource)->lease_owner, owner);
  EXPECT_EQ(held.size(), 1u) << "the refused attempt left nothing behind";
}

// A step forward makes every waiting retry due at once: each failing row is
// tried once, then waits its back-off from the new time; the next scan takes
// none of them up again (no retry storm).
TEST_F(RecoveryLoopTest, AClockStepForwardRetriesEachRowOnceThenBacksOff) {
  const int n = 10;
  std::map<Bytes, std::string> holders;
  for (int i = 0; i < n; ++i) {
    auto r =
        MakeRecord(MakeId(i, 2), Role::kTarget, "held-" + std::to_string(i));
    ASSERT_TRUE(store_->CreateTargetMigration(r, kStart + 10, "test").ok());
    holders[r.group_id] = r.id;
  }
  HeldGroupDs held_ds(std::move(holders));
  ctx_.ds = &held_ds;
  options_.recovery.backoff = {/*initial_ms=*/1000, /*max_ms=*/60'000};
  Backoff backoff(options_.recovery.backoff, clock_, [] { return 0.5; });
  ctx_.backoff = &backoff;
  clock_.Advance(11);
  WorkQueue workers(2);
  SourceService source(ctx_, workers);
  TargetService target(ctx_);
  RecoveryLoop loop(ctx_, source, target, workers);
  auto run_scan = [&](int want) {
    ASSERT_EQ(*loop.ScanOnce(), want);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (loop.stats().outstanding != 0 || loop.stats().waiting != 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "jobs never ran";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  run_scan(n);
  ASSERT_FALSE(HasFatalFailure());
  run_scan(0);  // all backing off
  ASSERT_FALSE(HasFatalFailure());
  clock_.Advance(24 * 3600 * 1000);  // a day, at once
  run_scan(n);
  ASSERT_FALSE(HasFatalFailure());
  run_scan(0);
  ASSERT_FALSE(HasFatalFailure());
  for (int i = 0; i < n; ++i) {
    auto row = store_->Get(MakeId(i, 2), Role::kTarget);
    ASSERT_TRUE(row.ok());
    EXPECT_EQ(row->attempt_count, 2) << i;
    ASSERT_TRUE(row->next_attempt_at.has_value());
    EXPECT_GT(*row->next_attempt_at, clock_.NowMillis()) << i;
  }
  loop.Stop();
  workers.Shutdown();
}

}  // namespace
}  // namespace mimi::protocol
