// SourceService: the Source DS's side of a migration (PROFILE.md §3-§5).
//
// HandleInit checks a MigrationInitRequest completely (client signature under
// its leaf key, the target's signature on the embedded MigrationResponse,
// epoch, the tagged commit's framing, policy), persists the migration as
// `initiated`, freezes the group, and then Drive()s it:
//
//   initiated       -> export the group, sign MigrationContent, persist it
//   content-sent    -> send it (resent byte-identical until answered), verify
//                      TargetMigrationComplete (signature and hash)
//   target-complete -> fan the commit out (exactly once), sign and persist
//                      the MigrationConfirmation
//   confirmed       -> delete the group, leave the tombstone
//   abort-requested -> send MigrationAbort; on a verified MigrationAbortAck
//                      unfreeze and end `aborted`; on TargetMigrationComplete
//                      roll forward
//
// Each step persists before the next side effect, so a crash at any point
// resumes from the stored state; the DS calls are idempotent per migration
// id. Drive() holds the row's lease, records failures with exponential
// back-off and full jitter, and parks a row as stalled after the configured
// number of attempts (it keeps retrying, visibly). Thread-safe.
#ifndef MIMI_PROTOCOL_SOURCE_SERVICE_H_
#define MIMI_PROTOCOL_SOURCE_SERVICE_H_

#include <chrono>
#include <functional>
#include <string>

#include "protocol/context.h"
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
  // `jitter` returns a uniform value in [0, 1); tests pass a fixed one.
  SourceService(const ProtocolContext& ctx, WorkQueue& workers,
                std::function<double()> jitter);

  // Answers within about `wait`: confirmed, or still running (202).
  Result<InitAnswer> HandleInit(ByteSpan body, std::chrono::milliseconds wait);

  // Drives one migration as far as it can go now. OK when it is finished or
  // waiting for nothing; the failure otherwise (already recorded on the row).
  Status Drive(const std::string& id);

  // Asks to give the migration up (operator, client or timeout): allowed
  // before the target answered; the abort itself runs in Drive().
  Status RequestAbort(const std::string& id, const std::string& why);

 private:
  Status Step(store::MigrationRecord& row);
  Status StepInitiated(const store::MigrationRecord& row);
  Status StepContentSent(const store::MigrationRecord& row);
  // Posts the persisted MigrationContent, reporting its upload to
  // ctx_.progress when there is one.
  Result<PeerResponse> SendContent(const store::MigrationRecord& row);
  Status StepTargetComplete(const store::MigrationRecord& row);
  Status StepConfirmed(const store::MigrationRecord& row);
  Status StepAbortRequested(const store::MigrationRecord& row);
  Status AcceptComplete(const store::MigrationRecord& row,
                        const std::string& body, store::MigrationState from);
  Status TransitionToAbort(const store::MigrationRecord& row,
                           const std::string& why);
  void RecordFailure(const store::MigrationRecord& row, const Status& error);

  const ProtocolContext& ctx_;
  WorkQueue& workers_;
  std::function<double()> jitter_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_SOURCE_SERVICE_H_
