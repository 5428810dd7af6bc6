#include "protocol/recovery_loop.h"

#include <spdlog/spdlog.h>

#include "protocol/refusal.h"

namespace mimi::protocol {

using store::MigrationState;
using store::Role;

void RecoveryLoop::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void RecoveryLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RecoveryLoop::Run() {
  for (;;) {
    auto scheduled = ScanOnce();
    if (!scheduled.ok()) {
      spdlog::warn("recovery scan failed: {}", scheduled.status().ToString());
    } else if (*scheduled > 0) {
      spdlog::debug("recovery scheduled {} migrations", *scheduled);
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock,
                 std::chrono::milliseconds(ctx_.config->recovery.scan_interval_ms),
                 [this] { return stopping_; });
    if (stopping_) return;
  }
}

void RecoveryLoop::Schedule(const store::MigrationRecord& row) {
  const std::string key = std::string(store::RoleName(row.role)) + "/" + row.id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!in_flight_.insert(key).second) return;
  }
  const bool posted = workers_.Post([this, row, key] {
    if (row.role == Role::kSource) {
      (void)source_.Drive(row.id);
    } else {
      Status s = target_.ExpireIfDue(row);
      if (!s.ok() && s.reason() != reason::kBusy) {
        const auto& rc = ctx_.config->recovery;
        (void)ctx_.store->RecordFailure(
            row.id, Role::kTarget, s.ToString(),
            ctx_.clock->NowMillis() + rc.backoff_max_ms,
            row.attempt_count + 1 >= rc.max_attempts);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(key);
  });
  if (!posted) {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(key);
  }
}

Result<int> RecoveryLoop::ScanOnce() {
  constexpr int kBatch = 1000;
  const auto& rc = ctx_.config->recovery;
  if (rc.auto_abort_after_seconds > 0) {
    const UnixMillis cutoff =
        ctx_.clock->NowMillis() - rc.auto_abort_after_seconds * 1000;
    for (MigrationState state :
         {MigrationState::kInitiated, MigrationState::kContentSent}) {
      MIMI_ASSIGN_OR_RETURN(auto rows,
                            ctx_.store->ListByState(Role::kSource, state, kBatch));
      for (const auto& row : rows) {
        if (row.created_at > cutoff) break;  // oldest first
        Status s = source_.RequestAbort(
            row.id, "no answer from the target for " +
                        std::to_string(rc.auto_abort_after_seconds) + "s");
        if (!s.ok()) {
          spdlog::warn("auto-abort of {} failed: {}", row.id, s.ToString());
        }
      }
    }
  }
  MIMI_ASSIGN_OR_RETURN(auto due, ctx_.store->ListDue(kBatch));
  for (const auto& row : due) Schedule(row);
  return static_cast<int>(due.size());
}

}  // namespace mimi::protocol
