// Clock: where every expiry, lease and back-off in the project reads time,
// so that tests can cover hours of outage in milliseconds.
//
// Time is Unix milliseconds (int64) because that is what the store persists
// and what peers exchange; SystemClock reads the wall clock, FakeClock only
// moves when told. Both are thread-safe.
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

}  // namespace mimi

#endif  // MIMI_PORTABILITY_CLOCK_H_
