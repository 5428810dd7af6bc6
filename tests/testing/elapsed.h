// Milliseconds since a steady-clock instant, for tests that time what they
// drive (crashes, restarts, settling). Header-only; thread-safe.
#ifndef MIMI_TESTING_ELAPSED_H_
#define MIMI_TESTING_ELAPSED_H_

#include <chrono>
#include <cstdint>

namespace mimi::testing {

inline int64_t MillisSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - t)
      .count();
}

}  // namespace mimi::testing

#endif  // MIMI_TESTING_ELAPSED_H_
