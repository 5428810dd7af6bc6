// Clock: where every expiry, lease and back-off in the project reads time,
// so that tests can cover hours of outage in milliseconds.
//
// Time is Unix milliseconds (int64) because that is what the store persists
// and what peers exchange; SystemClock reads the wall clock, FakeClock only
// moves when told, MonotonicClock counts milliseconds that never step (not
// Unix time), and SteadyWallClock is the wall clock made safe against steps
// back. All are thread-safe.
#ifndef MIMI_PORTABILITY_CLOCK_H_
#define MIMI_PORTABILITY_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace mimi {

using UnixMillis = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixMillis NowMillis() const override;
  // A process-wide instance for production wiring.
  static const SystemClock& Get();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(UnixMillis start = 1'700'000'000'000) : now_(start) {}
  UnixMillis NowMillis() const override { return now_.load(); }
  void Advance(int64_t millis) { now_.fetch_add(millis); }
  void Set(UnixMillis now) { now_.store(now); }

 private:
  std::atomic<UnixMillis> now_;
};

// std::chrono::steady_clock in milliseconds: never steps, counts from an
// arbitrary origin. Only differences of its readings mean anything.
class MonotonicClock final : public Clock {
 public:
  UnixMillis NowMillis() const override;
  static const MonotonicClock& Get();
};

// Wall-clock time that never runs backwards and never stands still: what the
// daemon reads for every lease, back-off, heartbeat and nonce expiry.
//
// It follows `wall` while the wall clock moves normally or steps forward.
// When the wall clock steps back (an operator, a VM restored, NTP stepping),
// it does not follow: it goes on from where it was at the rate of
// `monotonic`, until the wall clock has caught up with it. So a deadline
// computed before the step (a nonce's expiry, a lease, a retry time) comes
// after the same real time as without the step: a nonce is not accepted
// after it expired, a lease does not last longer, a retry is not put off by
// the size of the step. A step forward is followed, since nothing tells it
// from time that really passed (the process may have been suspended): every
// deadline then arrives early, which ends leases and nonces sooner, never
// later (docs/protocol.md §4 "Clocks").
//
// Internally: now = monotonic + lead, where lead only grows, to
// wall - monotonic whenever that is larger. Lock-free.
class SteadyWallClock final : public Clock {
 public:
  // Both clocks outlive this object.
  SteadyWallClock(const Clock& wall, const Clock& monotonic);
  UnixMillis NowMillis() const override;
  // Never reads earlier than `at` from now on (a restarted process resumes
  // from the latest time its predecessor wrote down).
  void NotBefore(UnixMillis at);
  // How far this clock is ahead of the wall clock (0 unless the wall clock
  // stepped back and has not caught up yet).
  int64_t AheadOfWallMillis() const;

 private:
  void Raise(int64_t lead) const;

  const Clock& wall_;
  const Clock& monotonic_;
  mutable std::atomic<int64_t> lead_;
};

}  // namespace mimi

#endif  // MIMI_PORTABILITY_CLOCK_H_
