// Backoff: when to try a failed migration step again. Exponential (the
// ceiling doubles with each consecutive failure from `initial_ms` up to
// `max_ms`) with full jitter (the wait is uniform below the ceiling), so that
// the retries of many migrations hit by one outage spread out instead of
// arriving together (docs/protocol.md §4). The one back-off of the source
// driver and of the recovery loop's target rows.
//
// The clock and the random source are injected so that tests can pin both.
// Thread-safe as long as the random source is (ThreadLocalUnitRandom is).
#ifndef MIMI_PROTOCOL_BACKOFF_H_
#define MIMI_PROTOCOL_BACKOFF_H_

#include <cstdint>
#include <functional>

#include "mimi_portability/clock.h"

namespace mimi::protocol {

struct BackoffOptions {
  int64_t initial_ms = 200;  // the ceiling after the first failure
  int64_t max_ms = 60'000;   // the ceiling never grows past this
};

// A uniform value in [0, 1).
using UnitRandom = std::function<double()>;

// A UnitRandom drawing from a per-thread generator seeded from
// std::random_device.
double ThreadLocalUnitRandom();

class Backoff {
 public:
  Backoff(BackoffOptions options, const Clock& clock, UnitRandom random);

  // The longest wait after `failures` consecutive failures (counted from 1;
  // less is taken as 1): initial_ms * 2^(failures - 1), at most max_ms.
  int64_t CeilingMs(int64_t failures) const;
  // Full jitter: random() * CeilingMs(failures), truncated to whole ms.
  int64_t DelayMs(int64_t failures) const;
  // When the next attempt is due: now + DelayMs(failures).
  UnixMillis NextAttemptAt(int64_t failures) const;

 private:
  const BackoffOptions options_;
  const Clock& clock_;
  const UnitRandom random_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_BACKOFF_H_
