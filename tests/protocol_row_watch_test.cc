#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "protocol/row_watch.h"

namespace mimi::protocol {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

TEST(RowWatchTest, AChangeBeforeTheWaitIsSeenAtOnce) {
  RowWatch watch;
  RowWatch::Waiter waiter(watch, "a");
  watch.Changed("a");
  const auto start = Steady::now();
  EXPECT_TRUE(waiter.WaitForChange(start + seconds(30)));
  EXPECT_LT(Steady::now() - start, seconds(5));
  // Seen once: the next wait needs a new change.
  EXPECT_FALSE(waiter.WaitForChange(Steady::now() + milliseconds(50)));
}

TEST(RowWatchTest, AChangeOnAnotherThreadWakesTheWaiter) {
  RowWatch watch;
  RowWatch::Waiter waiter(watch, "a");
  const auto start = Steady::now();
  std::thread mover([&watch] {
    std::this_thread::sleep_for(milliseconds(100));
    watch.Changed("a");
  });
  const bool woken = waiter.WaitForChange(start + seconds(30));
  const auto waited = Steady::now() - start;
  mover.join();
  EXPECT_TRUE(woken);
  // Woken by the change, not by the 30 s deadline.
  EXPECT_LT(waited, seconds(10));
  EXPECT_EQ(watch.SignalsDelivered(), 1u);
}

TEST(RowWatchTest, OtherRowsDoNotWakeTheWaiter) {
  RowWatch watch;
  RowWatch::Waiter waiter(watch, "a");
  watch.Changed("b");
  EXPECT_FALSE(waiter.WaitForChange(Steady::now() + milliseconds(50)));
  EXPECT_EQ(watch.SignalsDelivered(), 0u);
}

TEST(RowWatchTest, ChangesWithoutWaitersWakeNobody) {
  RowWatch watch;
  watch.Changed("a");
  {
    RowWatch::Waiter waiter(watch, "a");
    // A change before the waiter came is not news to it.
    EXPECT_FALSE(waiter.WaitForChange(Steady::now() + milliseconds(50)));
    watch.Changed("a");
  }
  // Gone with its last waiter: nothing left to wake.
  watch.Changed("a");
  EXPECT_EQ(watch.SignalsDelivered(), 1u);
}

TEST(RowWatchTest, TwoWaitersOfOneRowBothWake) {
  RowWatch watch;
  RowWatch::Waiter first(watch, "a");
  RowWatch::Waiter second(watch, "a");
  watch.Changed("a");
  EXPECT_TRUE(first.WaitForChange(Steady::now() + seconds(30)));
  EXPECT_TRUE(second.WaitForChange(Steady::now() + seconds(30)));
}

}  // namespace
}  // namespace mimi::protocol
