// SourceService: the Source DS's side of a migration (docs/protocol.md §3
// "Endpoints", §4 "States", §5 "Authorization").
//
// HandleInit admits a MigrationInitRequest (protocol/init_admission.h: client
// signature under its leaf key, the target's signature on the embedded
// MigrationResponse, epoch, the tagged commit's framing, policy), persists
// the migration as `initiated`, freezes the group, and then drives it on a
// worker (protocol/source_driver.h: content, confirmation, purge, abort),
// answering within the given wait. A driver that fails records the failure
// with exponential back-off and full jitter (protocol/backoff.h), and parks a
// row as stalled after the configured number of attempts (it keeps retrying,
// visibly). Thread-safe.
#ifndef MIMI_PROTOCOL_SOURCE_SERVICE_H_
#define MIMI_PROTOCOL_SOURCE_SERVICE_H_

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "protocol/context.h"
#include "protocol/source_driver.h"
#include "protocol/work_queue.h"

namespace mimi::protocol {

struct InitAnswer {
  std::string id;
  bool confirmed = false;
  Bytes confirmation;  // serialized MigrationConfirmation when confirmed
  std::string state;   // otherwise, where it stands
};

class SourceService {
 public:
  SourceService(const ProtocolContext& ctx, WorkQueue& workers);

  // Answers within about `wait`: confirmed, or still running (202).
  Result<InitAnswer> HandleInit(ByteSpan body, std::chrono::milliseconds wait);

  // Drives one migration as far as it can go now. OK when it is finished or
  // waiting for nothing; the failure otherwise (already recorded on the row).
  Status Drive(const std::string& id,
               std::unique_ptr<MigrationLease> lease = nullptr) {
    return driver_.Drive(id, std::move(lease));
  }

  // Asks to give the migration up (operator, client or timeout): allowed
  // before the target answered; the abort itself runs in Drive().
  Status RequestAbort(const std::string& id, const std::string& why) {
    return driver_.RequestAbort(id, why);
  }

 private:
  // Drive(id, lease) on a worker; `done` (if any) is set when it returns.
  // False if the queue refused the job.
  bool PostDrive(const std::string& id, std::unique_ptr<MigrationLease> lease,
                 std::shared_ptr<std::promise<void>> done = nullptr);

  const ProtocolContext& ctx_;
  WorkQueue& workers_;
  SourceDriver driver_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_SOURCE_SERVICE_H_
