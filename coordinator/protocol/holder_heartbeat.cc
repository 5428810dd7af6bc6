#include "protocol/holder_heartbeat.h"

#include <chrono>

#include "log/log.h"

namespace mimi::protocol {

void HolderHeartbeat::Start() {
  MutexLock lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void HolderHeartbeat::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

Status HolderHeartbeat::Beat() {
  Status s = store_.HeartbeatLeaseHolder(holder_id_, timeout_ms_);
  if (s.ok()) {
    ++beats_;
    if (failing_) log::Info("lease holder {}: heartbeat back", holder_id_);
    failing_ = false;
    return s;
  }
  if (s.code() == StatusCode::kFailedPrecondition ||
      s.code() == StatusCode::kNotFound) {
    superseded_ = true;
    log::Error(
        "lease holder {} is no longer alive in the store ({}): another "
        "process started with the same instance id; this one takes no "
        "lease any more",
        holder_id_, s.detail());
    return s;
  }
  // Once per run of failures, not at every beat.
  if (!failing_) {
    log::Warn("lease holder {}: heartbeat failed: {}", holder_id_,
                 s.ToString());
  }
  failing_ = true;
  return s;
}

void HolderHeartbeat::Run() {
  for (;;) {
    {
      MutexLock lock(mu_);
      const auto next = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(interval_ms_);
      while (!stopping_ && cv_.WaitUntil(mu_, next)) {
      }
      if (stopping_) return;
    }
    (void)Beat();
    if (superseded_) return;
  }
}

}  // namespace mimi::protocol
