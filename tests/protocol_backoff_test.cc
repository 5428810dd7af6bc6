// Backoff: the ceiling starts at initial_ms, doubles with each failure and
// stops at max_ms; the wait is the injected random value times the ceiling
// (full jitter), so it always lies in [0, ceiling]; the next attempt is the
// injected clock's now plus that wait.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "protocol/backoff.h"

namespace mimi::protocol {
namespace {

constexpr BackoffOptions kOptions{/*initial_ms=*/200, /*max_ms=*/60'000};

TEST(BackoffTest, CeilingDoublesFromInitialAndIsCappedAtMax) {
  FakeClock clock;
  Backoff backoff(kOptions, clock, [] { return 0.5; });
  EXPECT_EQ(backoff.CeilingMs(1), 200);
  EXPECT_EQ(backoff.CeilingMs(2), 400);
  EXPECT_EQ(backoff.CeilingMs(3), 800);
  EXPECT_EQ(backoff.CeilingMs(9), 51'200);
  EXPECT_EQ(backoff.CeilingMs(10), 60'000) << "102400 capped";
  EXPECT_EQ(backoff.CeilingMs(50), 60'000);
  EXPECT_EQ(backoff.CeilingMs(1'000'000), 60'000) << "no overflow far out";
  EXPECT_EQ(backoff.CeilingMs(0), 200)
      << "fewer than one failure counts as one";
  for (int64_t n = 1; n < 64; ++n) {
    EXPECT_LE(backoff.CeilingMs(n), backoff.CeilingMs(n + 1)) << n;
  }
}

TEST(BackoffTest, DelayIsTheRandomFractionOfTheCeiling) {
  FakeClock clock;
  double unit = 0.0;
  Backoff backoff(kOptions, clock, [&unit] { return unit; });
  EXPECT_EQ(backoff.DelayMs(3), 0);
  unit = 0.25;
  EXPECT_EQ(backoff.DelayMs(1), 50);
  EXPECT_EQ(backoff.DelayMs(3), 200);
  EXPECT_EQ(backoff.DelayMs(20), 15'000);
  unit = 0.999999;
  EXPECT_EQ(backoff.DelayMs(1), 199) << "below the ceiling";
  unit = 7.0;  // a source out of range still gives a wait within bounds
  EXPECT_EQ(backoff.DelayMs(2), 400);
  unit = -1.0;
  EXPECT_EQ(backoff.DelayMs(2), 0);
}

TEST(BackoffTest, SeededRandomWaitsStayInRangeAndSpreadOut) {
  FakeClock clock;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  Backoff backoff(kOptions, clock, [&] { return dist(rng); });
  for (int64_t failures : {1, 4, 12}) {
    const int64_t ceiling = backoff.CeilingMs(failures);
    std::vector<int64_t> waits;
    for (int i = 0; i < 200; ++i) {
      const int64_t d = backoff.DelayMs(failures);
      ASSERT_GE(d, 0);
      ASSERT_LT(d, ceiling);
      waits.push_back(d);
    }
    // Jitter: the waits cover the range instead of bunching together.
    const auto [lo, hi] = std::minmax_element(waits.begin(), waits.end());
    EXPECT_LT(*lo, ceiling / 4) << failures;
    EXPECT_GT(*hi, ceiling * 3 / 4) << failures;
  }
}

TEST(BackoffTest, NextAttemptIsTheClocksNowPlusTheWait) {
  FakeClock clock;
  clock.Set(1'700'000'000'000);
  Backoff backoff(kOptions, clock, [] { return 0.5; });
  EXPECT_EQ(backoff.NextAttemptAt(1), 1'700'000'000'100);
  clock.Advance(5'000);
  EXPECT_EQ(backoff.NextAttemptAt(2), 1'700'000'005'200);
}

TEST(BackoffTest, ThreadLocalUnitRandomIsInTheUnitInterval) {
  bool varied = false;
  const double first = ThreadLocalUnitRandom();
  for (int i = 0; i < 1000; ++i) {
    const double u = ThreadLocalUnitRandom();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    varied = varied || u != first;
  }
  EXPECT_TRUE(varied);
}

}  // namespace
}  // namespace mimi::protocol
