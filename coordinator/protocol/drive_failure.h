// RecordDriveFailure: what happens to a migration row when a step driving it
// fails, for both roles (the source driver, the recovery loop's target
// rows): the error is recorded on the row, the next attempt is scheduled
// after ctx.backoff's jittered exponential wait, and past
// options->recovery.max_attempts the row is flagged stalled (and is still
// retried). A "busy" refusal (another driver holds the lease) is not a
// failure of this row and records nothing (docs/protocol.md §4).
//
// Thread-safe (the store and the back-off are).
#ifndef MIMI_PROTOCOL_DRIVE_FAILURE_H_
#define MIMI_PROTOCOL_DRIVE_FAILURE_H_

#include "mimi_portability/status.h"
#include "protocol/context.h"
#include "store/records.h"

namespace mimi::protocol {

void RecordDriveFailure(const ProtocolContext& ctx,
                        const store::MigrationRecord& row, const Status& error);

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_DRIVE_FAILURE_H_
