#include "protocol/drive_failure.h"

#include <algorithm>

#include "log/log.h"
#include "protocol/refusal.h"

namespace mimi::protocol {

void RecordDriveFailure(const ProtocolContext& ctx,
                        const store::MigrationRecord& row,
                        const Status& error) {
  if (error.reason() == reason::kBusy) return;  // someone else is on it
  const int64_t attempts = row.attempt_count + 1;
  // Read before the durable write below, which takes time: the wait logged
  // is the back-off drawn, never negative.
  const UnixMillis now = ctx.clock->NowMillis();
  const UnixMillis next = ctx.backoff->NextAttemptAt(attempts);
  const bool stalled = attempts >= ctx.options->recovery.max_attempts;
  // Best effort: a failure to record leaves the row due as it was, so it is
  // simply tried again on the next scan.
  (void)ctx.store->RecordFailure(row.id, row.role, error.ToString(), next,
                                 stalled);
  const int64_t wait_ms = std::max<int64_t>(0, next - now);
  if (stalled) {
    log::Error(log::Migration{row.id},
               "{} {}: attempt {} failed, stalled (retried every {} ms): {}",
               store::RoleName(row.role), store::StateName(row.state), attempts,
               wait_ms, error.ToString());
  } else {
    log::Warn(log::Migration{row.id},
              "{} {}: attempt {} failed, next in {} ms: {}",
              store::RoleName(row.role), store::StateName(row.state), attempts,
              wait_ms, error.ToString());
  }
}

}  // namespace mimi::protocol
