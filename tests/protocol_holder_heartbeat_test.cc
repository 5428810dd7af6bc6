// HolderHeartbeat: each beat keeps the holder alive for the timeout from
// now; a holder ended by a later incarnation of its instance learns it at
// its next beat (superseded) and stops; the thread beats on its own and
// Stop joins it promptly.
#include "protocol/holder_heartbeat.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/sqlite_store.h"
#include "testing/temp_dir.h"

namespace mimi::protocol {
namespace {

TEST(HolderHeartbeatTest, BeatsKeepTheHolderAliveUntilSuperseded) {
  testing::TempDir dir;
  FakeClock clock;
  auto store = store::SqliteStore::Open(dir.File("hb.db"), clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto holder = (*store)->RegisterLeaseHolder("node-a", "h", 1, 3000);
  ASSERT_TRUE(holder.ok());
  HolderHeartbeat beat(**store, holder->holder_id, 1000, 3000);

  clock.Advance(2500);
  ASSERT_TRUE(beat.Beat().ok());
  auto holders = (*store)->ListLeaseHolders();
  ASSERT_EQ(holders->size(), 1u);
  EXPECT_EQ((*holders)[0].heartbeat_at, clock.NowMillis());
  EXPECT_EQ((*holders)[0].alive_until, clock.NowMillis() + 3000);
  clock.Advance(2999);
  EXPECT_TRUE((*(*store)->ListLeaseHolders())[0].AliveAt(clock.NowMillis()));
  EXPECT_FALSE(beat.superseded());

  // The same instance starts again (two processes sharing one id).
  ASSERT_TRUE((*store)->RegisterLeaseHolder("node-a", "h", 2, 3000).ok());
  EXPECT_EQ(beat.Beat().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(beat.superseded());
  EXPECT_EQ(beat.beats(), 1);
}

TEST(HolderHeartbeatTest, TheThreadBeatsAndStops) {
  testing::TempDir dir;
  auto store = store::SqliteStore::Open(dir.File("hb.db"), SystemClock::Get());
  ASSERT_TRUE(store.ok());
  auto holder = (*store)->RegisterLeaseHolder("node-a", "h", 1, 3000);
  ASSERT_TRUE(holder.ok());
  HolderHeartbeat beat(**store, holder->holder_id, 10, 3000);
  beat.Start();
  // Awaited, bounded: three beats at 10 ms each.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (beat.beats() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto stop = std::chrono::steady_clock::now();
  beat.Stop();
  EXPECT_GE(beat.beats(), 3);
  EXPECT_LT(std::chrono::steady_clock::now() - stop, std::chrono::seconds(1))
      << "Stop wakes the thread rather than waiting out a beat";
}

}  // namespace
}  // namespace mimi::protocol
