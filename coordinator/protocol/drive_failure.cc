#include "protocol/drive_failure.h"

#include "protocol/refusal.h"

namespace mimi::protocol {

void RecordDriveFailure(const ProtocolContext& ctx,
                        const store::MigrationRecord& row,
                        const Status& error) {
  if (error.reason() == reason::kBusy) return;  // someone else is on it
  const int64_t attempts = row.attempt_count + 1;
  // Best effort: a failure to record leaves the row due as it was, so it is
  // simply tried again on the next scan.
  (void)ctx.store->RecordFailure(
      row.id, row.role, error.ToString(), ctx.backoff->NextAttemptAt(attempts),
      attempts >= ctx.options->recovery.max_attempts);
}

}  // namespace mimi::protocol
