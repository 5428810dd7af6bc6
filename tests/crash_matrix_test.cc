// Nothing is lost across crashes (issue 7, item 4). Two mimi-portd child
// processes (source.test, target.test, verified HTTPS between them):
//
// * CrashMatrix: for every failpoint in failpoint::Names(), one migration
//   with that failpoint armed as `crash` on the side it belongs to. The
//   process must die with exit code 86 at that point; it is restarted
//   without failpoints, and the migration must then end whole: purged at the
//   source and imported at the target (the `*abort*` points: aborted on
//   both, the group unfrozen and usable at the source), the group on exactly
//   one DS, the migration commit at the target exactly once, the client's
//   confirmation at the status endpoint, both databases intact. The abort
//   points are reached by making the target unreachable for the content
//   (source.before_send_content=error on the source) and letting the
//   source's recovery.auto_abort_after_seconds = 1 give the migration up.
//   Leases last 10 minutes (recovery.lease_ms = 600000), so a lease the
//   crashed process held must be taken over by its restarted incarnation
//   (docs/protocol.md §4 "Lease ownership"): the migration's next
//   transition, on either side, must come within the restart time plus a
//   scan interval (and kScheduleSlack of a loaded machine), never after
//   the lease. Each case prints that time ("next="). Every point runs
//   twice: with the embedded DS's writes joined to the store's transactions
//   (the default) and with ds.join_store_transactions = false.
// * RandomKill: several concurrent migrations of different groups while one
//   side or the other is killed with SIGKILL at seeded random moments and
//   restarted; the same invariants for every migration, with the same
//   10-minute leases. MIMI_SOAK_SEEDS=N
//   runs N seeds instead of the default 3 (MIMI_SOAK_FIRST_SEED picks the
//   first).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "failpoint/failpoint.h"
#include "mimi_portability/clock.h"
#include "store/sqlite_store.h"
#include "testing/chaos_client.h"
#include "testing/ds_member.h"
#include "testing/elapsed.h"
#include "testing/portd_process.h"
#include "testing/split_brain_watch.h"

namespace mimi {
namespace {

using testing::ClientMigration;
using testing::MillisSince;
using testing::PortdPair;
using testing::PortdPairOptions;
using testing::Side;
using Steady = std::chrono::steady_clock;

constexpr auto kSettle = std::chrono::seconds(20);
// Long enough that waiting out a dead process's lease fails every test.
constexpr int64_t kLeaseMs = 600'000;
// The pair's recovery.scan_interval_ms (testing/portd_process.h).
constexpr int64_t kScanIntervalMs = 50;
// Scheduling on a loaded 2-core CI machine, far below kLeaseMs.
constexpr int64_t kScheduleSlackMs = 2000;

// Unfinished source rows by state, as "initiated=2 content-sent=1".
std::string SourceStates(const PortdPair& pair) {
  auto store = store::SqliteStore::OpenReadOnly(
      pair.DatabasePath(Side::kSource), SystemClock::Get());
  if (!store.ok()) return "?";
  auto counts = (*store)->CountByState();
  if (!counts.ok()) return "?";
  std::string out;
  for (const auto& c : *counts) {
    if (c.role != store::Role::kSource || store::IsTerminal(c.role, c.state))
      continue;
    out += (out.empty() ? "" : " ") + std::string(store::StateName(c.state)) +
           "=" + std::to_string(c.count);
  }
  return out.empty() ? "all finished" : out;
}

// The time of the first event (transition or creation) of migration `id`
// in either database at or after `since` (Unix ms); empty if none.
std::optional<UnixMillis> FirstEventSince(const PortdPair& pair,
                                          const std::string& id,
                                          UnixMillis since) {
  std::optional<UnixMillis> first;
  for (Side side : {Side::kSource, Side::kTarget}) {
    auto store = store::SqliteStore::OpenReadOnly(pair.DatabasePath(side),
                                                  SystemClock::Get());
    if (!store.ok()) continue;
    for (store::Role role : {store::Role::kSource, store::Role::kTarget}) {
      auto events = (*store)->Events(id, role);
      if (!events.ok()) continue;
      for (const auto& e : *events) {
        if (e.at >= since && (!first || e.at < *first)) first = e.at;
      }
    }
  }
  return first;
}

struct CrashPlan {
  Side side = Side::kSource;
  bool abort = false;
  std::string source_failpoints;
  std::string target_failpoints;
};

CrashPlan PlanFor(const std::string& name) {
  CrashPlan plan;
  plan.side = name.rfind("source.", 0) == 0 ? Side::kSource : Side::kTarget;
  plan.abort = name.find("abort") != std::string::npos;
  std::string& own = plan.side == Side::kSource ? plan.source_failpoints
                                                : plan.target_failpoints;
  own = name + "=crash";
  if (plan.abort) {
    // The target never answers the content, so the source gives up.
    plan.source_failpoints =
        "source.before_send_content=error" +
        (plan.source_failpoints.empty() ? std::string()
                                        : ";" + plan.source_failpoints);
  }
  return plan;
}

// Each failpoint on the default path, where the embedded DS's write of a
// step joins the store's transaction of that step (several failpoints then
// mark one instant), and with ds.join_store_transactions = false, where
// each DS write is a transaction of its own after the store's: the path an
// external DS takes, with a crash window between the two.
class CrashMatrixTest : public ::testing::TestWithParam<std::string> {
 protected:
  void RunCase(bool join_store_transactions);
};

TEST_P(CrashMatrixTest, MigrationEndsWholeAfterCrashAndRestart) {
  RunCase(/*join_store_transactions=*/true);
}

TEST_P(CrashMatrixTest, SeparateDsWritesEndWholeAfterCrashAndRestart) {
  RunCase(/*join_store_transactions=*/false);
}

void CrashMatrixTest::RunCase(bool join_store_transactions) {
  const std::string point = GetParam();
  const CrashPlan plan = PlanFor(point);
  PortdPairOptions options;
  options.join_store_transactions = join_store_transactions;
  options.lease_ms = kLeaseMs;
  if (plan.abort) options.source_auto_abort_after_seconds = 1;
  auto created = PortdPair::Create(options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  PortdPair& pair = **created;
  ASSERT_TRUE(pair.Start(plan.source_failpoints, plan.target_failpoints).ok())
      << pair.Logs();

  const auto start = Steady::now();
  const auto deadline = start + std::chrono::seconds(30);
  auto m = testing::CreateGroupRetrying(pair, "crash", deadline);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::atomic<bool> client_done{false};
  std::atomic<bool> stop{false};
  std::thread client([&] {
    testing::RunClient(pair, *m, deadline, &stop);
    client_done = true;
  });
  // An ASSERT below must not leave the client thread running.
  struct JoinOnExit {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinOnExit() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } join_on_exit{stop, client};

  // Supervise: the armed side must die with 86 at its failpoint; restart it
  // without failpoints. Any other end of either process is a failure.
  int crashes = 0;
  int64_t crash_ms = -1, restart_ms = -1;
  UnixMillis restart_at = 0;  // wall clock, as the events' times
  while (!client_done && Steady::now() < deadline) {
    for (Side side : {Side::kSource, Side::kTarget}) {
      auto ended = pair.process(side).Poll();
      if (!ended) continue;
      if (side == plan.side && ended->IsFailpointCrash() && crashes == 0) {
        ++crashes;
        crash_ms = MillisSince(start);
      } else {
        ADD_FAILURE() << SideName(side)
                      << " ended unexpectedly: " << ended->ToString();
      }
      const auto t = Steady::now();
      restart_at = SystemClock::Get().NowMillis();
      Status s = pair.process(side).Start();
      ASSERT_TRUE(s.ok()) << s.ToString();
      restart_ms = MillisSince(t);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  client.join();
  const int64_t client_ms = MillisSince(start);

  EXPECT_EQ(crashes, 1) << "the failpoint " << point << " never crashed the "
                        << SideName(plan.side) << "\n"
                        << pair.Logs();
  const auto want = plan.abort ? ClientMigration::Outcome::kAborted
                               : ClientMigration::Outcome::kConfirmed;
  EXPECT_EQ(m->outcome, want)
      << testing::OutcomeName(m->outcome) << " " << m->error << "\n"
      << pair.Logs();
  Status settled = testing::WaitSettled(pair, *m, Steady::now() + kSettle);
  ASSERT_TRUE(settled.ok()) << settled.ToString() << "\n"
                            << pair.Logs() << pair.Stacks();
  const int64_t settled_ms = MillisSince(start);
  // The restarted process took over its dead incarnation's lease at once.
  int64_t next_ms = -1;
  auto next = crashes == 1 ? FirstEventSince(pair, m->id, restart_at)
                           : std::nullopt;
  if (crashes == 1 && !next) {
    // Only a crash after the last transition leaves none to come; the
    // lease it held was taken over all the same.
    for (Side side : {Side::kSource, Side::kTarget}) {
      auto store = store::SqliteStore::OpenReadOnly(pair.DatabasePath(side),
                                                    SystemClock::Get());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      auto rows = (*store)->GetById(m->id);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      for (const auto& row : *rows) {
        EXPECT_TRUE(store::IsTerminal(row.role, row.state))
            << "no transition after the restart, and " << SideName(side)
            << " is " << store::StateName(row.state) << "\n"
            << pair.Logs();
        EXPECT_FALSE(row.lease_owner.has_value())
            << SideName(side) << " still leased by " << *row.lease_owner;
      }
    }
  }
  if (next) {
    next_ms = *next - restart_at;
    EXPECT_LE(next_ms, restart_ms + kScanIntervalMs + kScheduleSlackMs)
        << "the next transition came " << next_ms << " ms after the restart "
        << "began (the restart took " << restart_ms << " ms; leases last "
        << kLeaseMs << " ms)\n"
        << pair.Logs();
  }
  auto bad = plan.abort ? testing::CheckAbortedAndUsable(pair, *m)
                        : testing::CheckMoved(pair, *m);
  auto integrity = testing::CheckIntegrity(pair);
  bad.insert(bad.end(), integrity.begin(), integrity.end());
  EXPECT_TRUE(bad.empty()) << testing::Join(bad) << "\n" << pair.Logs();

  // Still alive and draining cleanly on SIGTERM.
  for (Side side : {Side::kSource, Side::kTarget}) {
    auto ended = pair.process(side).Terminate();
    ASSERT_TRUE(ended.has_value());
    EXPECT_FALSE(ended->signaled) << SideName(side) << " " << ended->ToString();
    EXPECT_EQ(ended->code, 0) << SideName(side) << "\n" << pair.Logs();
  }
  std::printf(
      "[crash] %-40s %s side=%s %s crash@%lldms restart=%lldms next=%s "
      "client=%lldms settled=%lldms requests=%d inits=%d\n",
      point.c_str(), join_store_transactions ? "joined" : "separate",
      SideName(plan.side), plan.abort ? "abort" : "migrate",
      static_cast<long long>(crash_ms), static_cast<long long>(restart_ms),
      next_ms < 0 ? "none(terminal)" : (std::to_string(next_ms) + "ms").c_str(),
      static_cast<long long>(client_ms),
      static_cast<long long>(settled_ms), m->requests, m->inits);
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryFailpoint, CrashMatrixTest,
                         ::testing::ValuesIn(failpoint::Names()), TestName);

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

TEST(RandomKillTest, ConcurrentMigrationsSurviveKill9) {
  const int seeds = EnvInt("MIMI_SOAK_SEEDS", 3);
  const int first_seed = EnvInt("MIMI_SOAK_FIRST_SEED", 1);
  constexpr int kMigrations = 12;
  constexpr int kKillsPerSeed = 2;
  PortdPairOptions options;
  options.lease_ms = kLeaseMs;
  auto created = PortdPair::Create(options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  PortdPair& pair = **created;
  ASSERT_TRUE(pair.Start().ok()) << pair.Logs();

  std::map<std::string, int>
      states_at_kill;  // "source: content-sent=2" -> times
  int total_kills = 0, total_migrations = 0;
  int64_t total_checks = 0;
  const auto all_start = Steady::now();
  for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(static_cast<uint32_t>(seed));
    const auto start = Steady::now();
    const auto deadline = start + std::chrono::seconds(40);
    std::vector<ClientMigration> ms;
    for (int i = 0; i < kMigrations; ++i) {
      auto m = testing::CreateGroupRetrying(
          pair, "s" + std::to_string(seed) + "-m" + std::to_string(i),
          deadline);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      ms.push_back(std::move(*m));
    }
    // Both DSs must never accept commits for one group at once, at any
    // moment of the seed (testing/split_brain_watch.h).
    std::vector<Bytes> group_ids;
    for (const auto& m : ms) group_ids.push_back(m.group_id);
    testing::SplitBrainWatch watch(pair, std::move(group_ids));
    // Clients start spread over half a second, so that kills find
    // migrations in every phase.
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    struct JoinAll {  // an ASSERT below must not leave client threads running
      std::atomic<bool>& stop;
      std::vector<std::thread>& threads;
      ~JoinAll() {
        stop = true;
        for (auto& t : threads) {
          if (t.joinable()) t.join();
        }
      }
    } join_all{stop, clients};
    for (auto& m : ms) {
      const auto delay = std::chrono::milliseconds(
          std::uniform_int_distribution<int>(0, 500)(rng));
      clients.emplace_back([&pair, &m, &stop, deadline, delay] {
        std::this_thread::sleep_for(delay);
        testing::RunClient(pair, m, deadline, &stop);
      });
    }
    // Kill one side at a random moment while the migrations run, restart it.
    std::string kills;
    for (int k = 0; k < kKillsPerSeed; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::uniform_int_distribution<int>(50, 450)(rng)));
      const Side side = rng() % 2 == 0 ? Side::kSource : Side::kTarget;
      for (Side s : {Side::kSource, Side::kTarget}) {
        auto ended = pair.process(s).Poll();
        ASSERT_FALSE(ended.has_value())
            << SideName(s) << " ended by itself: " << ended->ToString() << "\n"
            << pair.Logs();
      }
      pair.process(side).Kill();
      const std::string states = SourceStates(pair);
      ++states_at_kill[std::string(SideName(side)) +
                       " killed; unfinished source rows " + states];
      kills += std::string(SideName(side)) + "@" +
               std::to_string(MillisSince(start)) + "ms[" + states + "] ";
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::uniform_int_distribution<int>(0, 200)(rng)));
      Status s = pair.process(side).Start();
      ASSERT_TRUE(s.ok()) << s.ToString();
      ++total_kills;
    }
    for (auto& t : clients) t.join();
    const int64_t client_ms = MillisSince(start);
    for (Side s : {Side::kSource, Side::kTarget}) {
      auto ended = pair.process(s).Poll();
      ASSERT_FALSE(ended.has_value())
          << SideName(s) << " ended: " << ended->ToString();
    }
    std::vector<std::string> bad;
    int requests = 0, inits = 0;
    for (auto& m : ms) {
      requests += m.requests;
      inits += m.inits;
      if (m.outcome != ClientMigration::Outcome::kConfirmed) {
        bad.push_back(m.label + ": client " + testing::OutcomeName(m.outcome) +
                      " " + m.error);
      }
      Status settled = testing::WaitSettled(pair, m, Steady::now() + kSettle);
      if (!settled.ok()) {
        bad.push_back(settled.ToString() + "\n" + pair.Stacks());
        continue;
      }
      auto moved = testing::CheckMoved(pair, m);
      bad.insert(bad.end(), moved.begin(), moved.end());
    }
    watch.Stop();
    auto split = watch.Violations();
    bad.insert(bad.end(), split.begin(), split.end());
    // A watch that never got both answers checked nothing.
    if (watch.checked() == 0)
      bad.push_back("the split-brain watch made no check");
    total_checks += watch.checked();
    auto integrity = testing::CheckIntegrity(pair);
    bad.insert(bad.end(), integrity.begin(), integrity.end());
    EXPECT_TRUE(bad.empty())
        << testing::Join(bad) << "\nkills: " << kills << "\n"
        << pair.Logs();
    total_migrations += kMigrations;
    std::printf(
        "[kill9] seed %d: %d migrations, kills %s| clients done %lldms, "
        "settled %lldms, %d requests, %d inits, %lld split-brain checks\n",
        seed, kMigrations, kills.c_str(), static_cast<long long>(client_ms),
        static_cast<long long>(MillisSince(start)), requests, inits,
        static_cast<long long>(watch.checked()));
    if (HasFailure()) break;
  }
  std::printf(
      "[kill9] %d seeds, %d migrations, %d kills, %lld split-brain checks in "
      "%lldms; where kills landed:\n",
      seeds, total_migrations, total_kills,
      static_cast<long long>(total_checks),
      static_cast<long long>(MillisSince(all_start)));
  for (const auto& [what, n] : states_at_kill) {
    std::printf("[kill9]   %3d x %s\n", n, what.c_str());
  }
}

// The watch above is not vacuous: a group created on both DSs (what a
// migration must never leave behind) is reported.
TEST(SplitBrainWatchTest, ReportsAGroupThatAcceptsCommitsOnBothDss) {
  auto created = PortdPair::Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  PortdPair& pair = **created;
  ASSERT_TRUE(pair.Start().ok()) << pair.Logs();
  const auto deadline = Steady::now() + std::chrono::seconds(20);
  auto m = testing::CreateGroupRetrying(pair, "split", deadline);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  testing::SplitBrainWatch watch(pair, {m->group_id});
  while (watch.checked() < 3 && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(watch.Violations().empty()) << "one home so far";
  // The same group created at the target's DS as well.
  nlohmann::json create = {{"group_info", ToHex(m->group_info)},
                           {"ratchet_tree", ToHex(m->ratchet_tree)}};
  auto r = pair.Client(Side::kTarget)
               ->Post("/ds/v1/groups",
                      testing::ClientTokenHeaders(pair.client_token()),
                      create.dump(), "application/json");
  ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
  while (watch.Violations().empty() && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  watch.Stop();
  ASSERT_FALSE(watch.Violations().empty());
  EXPECT_NE(watch.Violations()[0].find("accepts commits on both DSs"),
            std::string::npos)
      << watch.Violations()[0];
}

}  // namespace
}  // namespace mimi
