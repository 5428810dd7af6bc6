// LogRateLimiter: at most N log lines per second per event kind, so that an
// attacker who triggers refusals in a loop cannot flood the log (or the
// disk) while every refusal is still accounted for: the first line allowed
// after a suppressed stretch carries how many lines were dropped.
//
// Thread-safe (one mutex; callers are request threads).
#ifndef MIMI_DAEMON_LOG_RATE_LIMITER_H_
#define MIMI_DAEMON_LOG_RATE_LIMITER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "codec/mutex.h"

namespace mimi::daemon {

class LogRateLimiter {
 public:
  // `now_ms` is a monotonic millisecond clock (tests pass a fake one).
  LogRateLimiter(int lines_per_second, std::function<int64_t()> now_ms);

  // nullopt: drop this line (it is counted). Otherwise log it, mentioning
  // the returned number of lines of this kind dropped since the last one
  // logged (0 most of the time).
  std::optional<uint64_t> Admit(const std::string& kind) EXCLUDES(mu_);

 private:
  struct Window {
    int64_t start_ms = 0;
    int used = 0;
    uint64_t suppressed = 0;
  };
  const int per_second_;
  const std::function<int64_t()> now_ms_;
  Mutex mu_;
  std::map<std::string, Window> windows_ GUARDED_BY(mu_);
};

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_LOG_RATE_LIMITER_H_
