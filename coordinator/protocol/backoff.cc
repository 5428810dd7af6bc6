#include "protocol/backoff.h"

#include <algorithm>
#include <random>

namespace mimi::protocol {

double ThreadLocalUnitRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Backoff::Backoff(BackoffOptions options, const Clock& clock, UnitRandom random)
    : options_(options), clock_(clock), random_(std::move(random)) {}

int64_t Backoff::CeilingMs(int64_t failures) const {
  // Past 2^30 the doubling would overflow long before it mattered: any
  // sane max_ms caps it far earlier.
  const int shift = static_cast<int>(std::clamp<int64_t>(failures - 1, 0, 30));
  return std::min<int64_t>(options_.max_ms, options_.initial_ms << shift);
}

int64_t Backoff::DelayMs(int64_t failures) const {
  // A source that strays outside [0, 1) still yields a wait within bounds.
  const double unit = std::clamp(random_(), 0.0, 1.0);
  return static_cast<int64_t>(unit * static_cast<double>(CeilingMs(failures)));
}

UnixMillis Backoff::NextAttemptAt(int64_t failures) const {
  return clock_.NowMillis() + DelayMs(failures);
}

}  // namespace mimi::protocol
