#include "daemon/log_rate_limiter.h"

#include <gtest/gtest.h>

namespace mimi::daemon {
namespace {

TEST(LogRateLimiterTest, AdmitsNPerSecondPerKindAndCountsTheRest) {
  int64_t now = 10'000;
  LogRateLimiter limiter(3, [&] { return now; });
  for (int i = 0; i < 3; ++i) {
    auto admitted = limiter.Admit("payload-too-large");
    ASSERT_TRUE(admitted.has_value()) << i;
    EXPECT_EQ(*admitted, 0u);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(limiter.Admit("payload-too-large").has_value()) << i;
  }
  // Another kind has its own budget.
  ASSERT_TRUE(limiter.Admit("unauthorized").has_value());

  now += 999;  // same second
  EXPECT_FALSE(limiter.Admit("payload-too-large").has_value());
  now += 1;    // next second: the first line admitted reports the drops
  auto next = limiter.Admit("payload-too-large");
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, 6u);
  auto after = limiter.Admit("payload-too-large");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after, 0u);
}

}  // namespace
}  // namespace mimi::daemon
