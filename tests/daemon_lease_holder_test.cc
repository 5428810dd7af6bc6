// The daemon's lease holder (docs/protocol.md §4 "Lease ownership") wired
// end to end in an in-process mimi-portd: it registers under the instance id
// of its data directory, beats, ends its holder on a clean stop; a restart
// is the next incarnation of the same instance and its first scan takes over
// the lease its predecessor left (counted in mimi_leases_reclaimed_total); a
// second daemon on the same data directory is refused.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <unistd.h>

#include "daemon/instance_id.h"
#include "store_testing.h"
#include "testing/read_file.h"
#include "testing/two_daemons.h"

namespace mimi {
namespace {

using store::Role;
using Steady = std::chrono::steady_clock;

// The value of an unlabelled sample in /metrics text; -1 if absent.
double ScrapedMetric(const std::string& text, const std::string& name) {
  const std::string prefix = "\n" + name + " ";
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size()));
}

const store::LeaseHolder* FindHolder(const std::vector<store::LeaseHolder>& all,
                               const std::string& id) {
  for (const auto& h : all) {
    if (h.holder_id == id) return &h;
  }
  return nullptr;
}

TEST(DaemonLeaseHolderTest, ARestartTakesOverTheLeaseItsPredecessorLeft) {
  testing::TwoDaemons d(SystemClock::Get(), [](daemon::Config& c) {
    c.recovery.heartbeat_ms = 20;  // beats are seen quickly
  });
  ASSERT_TRUE(d.ok()) << d.error();
  const std::string instance = [&] {
    std::string s = testing::ReadTextFile(
        (std::filesystem::path(d.source_config().data_dir) /
         daemon::kInstanceIdFile)
            .string());
    return s.substr(0, s.find('\n'));
  }();
  const std::string first = instance + "/1";
  auto store = d.SourceStore();
  auto holders = store->ListLeaseHolders();
  ASSERT_TRUE(holders.ok()) << holders.status().ToString();
  const store::LeaseHolder* h = FindHolder(*holders, first);
  ASSERT_NE(h, nullptr) << first;
  EXPECT_EQ(h->pid, getpid());
  const UnixMillis started_beat = h->heartbeat_at;
  // The heartbeat moves on by itself (awaited, bounded).
  const auto deadline = Steady::now() + std::chrono::seconds(10);
  UnixMillis beat = started_beat;
  while (beat == started_beat && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    beat = FindHolder(*store->ListLeaseHolders(), first)->heartbeat_at;
  }
  EXPECT_GT(beat, started_beat) << "no heartbeat";

  // A second daemon on this data directory would end the first one's
  // incarnation: it is refused before it touches anything.
  auto twin = daemon::Daemon::Create(d.source_config(), SystemClock::Get());
  ASSERT_FALSE(twin.ok());
  EXPECT_EQ(twin.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->ListLeaseHolders()->size(), 1u);

  // A row leased by the running incarnation for ten minutes, as a driver
  // killed mid-step would leave it (a target row: nothing drives it).
  const std::string id = store::testing::MakeId(77);
  ASSERT_TRUE(store
                  ->CreateTargetMigration(
                      store::testing::MakeRecord(id, Role::kTarget, "g77"),
                      SystemClock::Get().NowMillis() + 3'600'000, "test")
                  .ok());
  ASSERT_TRUE(store->AcquireLease(id, Role::kTarget, first + "#999", 600'000).ok());

  // A clean stop ends the holder; the next start is incarnation 2.
  d.StopSource();
  EXPECT_TRUE(FindHolder(*store->ListLeaseHolders(), first)->ended_at.has_value());
  ASSERT_TRUE(d.RestartSource().ok());
  const std::string second = instance + "/2";
  auto client = d.SourceClient();
  double reclaimed = -1;
  const auto until = Steady::now() + std::chrono::seconds(10);
  while (reclaimed < 1 && Steady::now() < until) {
    auto r = client->Get("/metrics");
    ASSERT_TRUE(r);
    reclaimed = ScrapedMetric(r->body, "mimi_leases_reclaimed_total");
    if (reclaimed < 1) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(reclaimed, 1);
  auto row = store->Get(id, Role::kTarget);
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->lease_owner.has_value()) << *row->lease_owner;
  holders = store->ListLeaseHolders();
  ASSERT_NE(FindHolder(*holders, second), nullptr);
  EXPECT_TRUE(FindHolder(*holders, second)->AliveAt(SystemClock::Get().NowMillis()));
  EXPECT_EQ(FindHolder(*holders, first), nullptr)
      << "the dead incarnation holds nothing and is forgotten";
}

}  // namespace
}  // namespace mimi
