// Nothing is lost, and nothing happens twice, across network faults (issue
// 7, item 5). Two mimi-portd child processes; the source reaches target.test
// through a FaultProxy. For each fault: a warm-up migration through the
// healthy proxy (it also fills the source's cache of the target's key
// document), then the fault, several concurrent migrations started under it,
// a fault window in which the hard faults must hold every migration before
// target-complete at the source, then the network heals and every
// migration must complete whole (same invariants as the crash matrix:
// purged/imported, one DS, the commit once at the target, the confirmation
// at the status endpoint, both databases intact).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mimi_portability/clock.h"
#include "store/sqlite_store.h"
#include "testing/chaos_client.h"
#include "testing/elapsed.h"
#include "testing/fault_proxy.h"
#include "testing/loopback_port.h"
#include "testing/portd_process.h"

namespace mimi {
namespace {

using testing::ClientMigration;
using testing::FaultMode;
using testing::FaultProxy;
using testing::MillisSince;
using testing::PortdPair;
using testing::Side;
using Steady = std::chrono::steady_clock;

constexpr int kMigrations = 4;
constexpr auto kFaultWindow = std::chrono::milliseconds(2000);

struct FaultCase {
  FaultMode mode;
  int param;
  // Whether no migration can get past content-sent while the fault lasts.
  bool blocks;
};

// How many of `ms` are in each state on `side`.
std::map<std::string, int> States(const PortdPair& pair, Side side,
                                  const std::vector<ClientMigration>& ms) {
  std::map<std::string, int> out;
  auto store = store::SqliteStore::OpenReadOnly(pair.DatabasePath(side),
                                                SystemClock::Get());
  if (!store.ok()) return out;
  for (const auto& m : ms) {
    if (m.id.empty()) {
      ++out["no-response-yet"];
      continue;
    }
    auto row =
        (*store)->Get(m.id, side == Side::kSource ? store::Role::kSource
                                                  : store::Role::kTarget);
    ++out[row.ok() ? std::string(store::StateName(row->state)) : "absent"];
  }
  return out;
}

std::string Show(const std::map<std::string, int>& states) {
  std::string out;
  for (const auto& [k, v] : states) out += k + "=" + std::to_string(v) + " ";
  return out;
}

class NetworkFaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(NetworkFaultTest, MigrationsCompleteAfterHealNoneTwice) {
  const FaultCase fault = GetParam();
  auto created = PortdPair::Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  PortdPair& pair = **created;
  auto proxy =
      FaultProxy::Start(pair.target_port(), testing::StableLoopbackPort());
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  pair.set_source_route_to_target((*proxy)->port());
  ASSERT_TRUE(pair.Start().ok()) << pair.Logs();

  // Warm-up through the healthy proxy.
  auto warm = testing::CreateGroupRetrying(
      pair, "warm-up", Steady::now() + std::chrono::seconds(10));
  ASSERT_TRUE(warm.ok()) << warm.status().ToString();
  testing::RunClient(pair, *warm, Steady::now() + std::chrono::seconds(20));
  ASSERT_EQ(warm->outcome, ClientMigration::Outcome::kConfirmed)
      << warm->error << "\n"
      << pair.Logs();
  ASSERT_GT((*proxy)->accepted(), 0)
      << "the source did not go through the proxy";

  ASSERT_TRUE((*proxy)->Set(fault.mode, fault.param).ok());
  const auto start = Steady::now();
  const auto deadline = start + std::chrono::seconds(40);
  std::vector<ClientMigration> ms;
  for (int i = 0; i < kMigrations; ++i) {
    auto m = testing::CreateGroupRetrying(
        pair, std::string(FaultModeName(fault.mode)) + "-" + std::to_string(i),
        deadline);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ms.push_back(std::move(*m));
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  // An ASSERT below must not leave client threads running.
  struct JoinAll {
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
    clients.emplace_back([&pair, &m, &stop, deadline] {
      testing::RunClient(pair, m, deadline, &stop);
    });
  }

  std::this_thread::sleep_for(kFaultWindow);
  const auto source_in_fault = States(pair, Side::kSource, ms);
  const auto target_in_fault = States(pair, Side::kTarget, ms);
  const int faulted = (*proxy)->faulted();
  if (fault.blocks) {
    // A closed port refuses in the kernel; every other fault is counted.
    if (fault.mode != FaultMode::kDown) {
      EXPECT_GT(faulted, 0) << "the fault never acted";
    }
    for (const auto& [state, n] : source_in_fault) {
      EXPECT_TRUE(state == "initiated" || state == "content-sent" ||
                  state == "absent" || state == "no-response-yet")
          << n << " migrations got to " << state << " through a "
          << FaultModeName(fault.mode);
    }
  }
  if (fault.mode == FaultMode::kCutResponse) {
    // The interesting case: the target imported, the source does not know.
    EXPECT_GT(
        target_in_fault.count("imported") ? target_in_fault.at("imported") : 0,
        0)
        << Show(target_in_fault);
  }

  Status healing = (*proxy)->Set(FaultMode::kPass);
  ASSERT_TRUE(healing.ok()) << healing.ToString();
  const auto healed = Steady::now();
  for (auto& t : clients)
    t.join();  // they stop at confirmation or the deadline
  const int64_t heal_to_confirmed = MillisSince(healed);

  std::vector<std::string> bad = testing::CheckMoved(pair, *warm);
  for (auto& m : ms) {
    if (m.outcome != ClientMigration::Outcome::kConfirmed) {
      bad.push_back(m.label + ": client " + testing::OutcomeName(m.outcome) +
                    " " + m.error);
    }
    Status settled =
        testing::WaitSettled(pair, m, Steady::now() + std::chrono::seconds(20));
    if (!settled.ok()) {
      bad.push_back(settled.ToString() + "\n" + pair.Stacks());
      continue;
    }
    auto moved = testing::CheckMoved(pair, m);
    bad.insert(bad.end(), moved.begin(), moved.end());
  }
  auto integrity = testing::CheckIntegrity(pair);
  bad.insert(bad.end(), integrity.begin(), integrity.end());
  EXPECT_TRUE(bad.empty()) << testing::Join(bad) << "\n" << pair.Logs();
  for (Side side : {Side::kSource, Side::kTarget}) {
    EXPECT_FALSE(pair.process(side).Poll().has_value())
        << SideName(side) << " died";
  }
  std::printf(
      "[net] %-12s param=%d faulted=%d in-fault source{%s} target{%s} "
      "heal->all confirmed %lldms, total %lldms\n",
      FaultModeName(fault.mode), fault.param, faulted,
      Show(source_in_fault).c_str(), Show(target_in_fault).c_str(),
      static_cast<long long>(heal_to_confirmed),
      static_cast<long long>(MillisSince(start)));
}

std::string CaseName(const ::testing::TestParamInfo<FaultCase>& info) {
  return FaultModeName(info.param.mode);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, NetworkFaultTest,
    ::testing::Values(FaultCase{FaultMode::kLatency, 150, false},
                      FaultCase{FaultMode::kReset, 0, true},
                      FaultCase{FaultMode::kBlackHole, 0, true},
                      FaultCase{FaultMode::kCutRequest, 200, true},
                      FaultCase{FaultMode::kCutResponse, 300, true},
                      FaultCase{FaultMode::kDown, 0, true}),
    CaseName);

}  // namespace
}  // namespace mimi
