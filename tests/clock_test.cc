// SteadyWallClock: follows the wall clock forward, never backward; after a
// step back it keeps real time (the monotonic clock's rate) until the wall
// clock catches up.
#include "mimi_portability/clock.h"

#include <gtest/gtest.h>

namespace mimi {
namespace {

constexpr UnixMillis kWall = 1'700'000'000'000;

class SteadyWallClockTest : public ::testing::Test {
 protected:
  // Time passing for real: both clocks move.
  void Pass(int64_t ms) {
    wall_.Advance(ms);
    mono_.Advance(ms);
  }
  FakeClock wall_{kWall};
  FakeClock mono_{5'000};  // an arbitrary origin, as steady_clock has
  SteadyWallClock clock_{wall_, mono_};
};

TEST_F(SteadyWallClockTest, FollowsTheWallClockAndItsStepsForward) {
  EXPECT_EQ(clock_.NowMillis(), kWall);
  Pass(1'500);
  EXPECT_EQ(clock_.NowMillis(), kWall + 1'500);
  wall_.Advance(3'600'000);  // a step forward is indistinguishable from a
                             // suspended process: followed
  EXPECT_EQ(clock_.NowMillis(), kWall + 1'500 + 3'600'000);
  EXPECT_EQ(clock_.AheadOfWallMillis(), 0);
}

TEST_F(SteadyWallClockTest, AStepBackIsNotFollowedAndTimeKeepsPassing) {
  Pass(1'000);
  const UnixMillis before = clock_.NowMillis();
  wall_.Advance(-3'600'000);  // an hour back
  EXPECT_EQ(clock_.NowMillis(), before) << "never backwards";
  Pass(10'000);
  EXPECT_EQ(clock_.NowMillis(), before + 10'000)
      << "real time passes at the monotonic clock's rate, not frozen";
  EXPECT_EQ(clock_.AheadOfWallMillis(), 3'600'000);
  // The wall clock is set right again (or catches up): followed once more.
  wall_.Advance(3'600'000 + 500);
  EXPECT_EQ(clock_.NowMillis(), before + 10'500);
  EXPECT_EQ(clock_.AheadOfWallMillis(), 0);
}

TEST_F(SteadyWallClockTest, NotBeforeResumesFromAnEarlierProcessesTime) {
  // The predecessor wrote down a time ahead of this process's wall clock
  // (the clock was stepped back between the two runs).
  clock_.NotBefore(kWall + 60'000);
  EXPECT_EQ(clock_.NowMillis(), kWall + 60'000);
  Pass(1'000);
  EXPECT_EQ(clock_.NowMillis(), kWall + 61'000);
  clock_.NotBefore(kWall);  // an earlier time changes nothing
  EXPECT_EQ(clock_.NowMillis(), kWall + 61'000);
}

}  // namespace
}  // namespace mimi
