#include "mimi_portability/clock.h"

#include <chrono>

namespace mimi {

UnixMillis SystemClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SystemClock& SystemClock::Get() {
  static const SystemClock kClock;
  return kClock;
}

UnixMillis MonotonicClock::NowMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const MonotonicClock& MonotonicClock::Get() {
  static const MonotonicClock kClock;
  return kClock;
}

SteadyWallClock::SteadyWallClock(const Clock& wall, const Clock& monotonic)
    : wall_(wall),
      monotonic_(monotonic),
      lead_(wall.NowMillis() - monotonic.NowMillis()) {}

void SteadyWallClock::Raise(int64_t lead) const {
  int64_t cur = lead_.load();
  while (cur < lead && !lead_.compare_exchange_weak(cur, lead)) {
  }
}

UnixMillis SteadyWallClock::NowMillis() const {
  // The monotonic reading first: a wall reading taken after it can only
  // make the lead larger, never let the result fall behind an earlier one.
  const int64_t mono = monotonic_.NowMillis();
  Raise(wall_.NowMillis() - mono);
  return mono + lead_.load();
}

void SteadyWallClock::NotBefore(UnixMillis at) {
  Raise(at - monotonic_.NowMillis());
}

int64_t SteadyWallClock::AheadOfWallMillis() const {
  const int64_t ahead = NowMillis() - wall_.NowMillis();
  return ahead > 0 ? ahead : 0;
}

}  // namespace mimi
