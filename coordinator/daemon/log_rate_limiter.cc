#include "daemon/log_rate_limiter.h"

#include <utility>

namespace mimi::daemon {

LogRateLimiter::LogRateLimiter(int lines_per_second,
                               std::function<int64_t()> now_ms)
    : per_second_(lines_per_second), now_ms_(std::move(now_ms)) {}

std::optional<uint64_t> LogRateLimiter::Admit(const std::string& kind) {
  const int64_t now = now_ms_();
  MutexLock lock(mu_);
  // Kinds are a closed set of refusal reasons, so the map stays small.
  Window& w = windows_[kind];
  if (now - w.start_ms >= 1000 || now < w.start_ms) {
    w.start_ms = now;
    w.used = 0;
  }
  if (w.used >= per_second_) {
    ++w.suppressed;
    return std::nullopt;
  }
  ++w.used;
  return std::exchange(w.suppressed, 0);
}

}  // namespace mimi::daemon
