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

}  // namespace mimi
