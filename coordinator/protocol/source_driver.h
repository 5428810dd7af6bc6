// SourceDriver: moves a source migration row on from its persisted state,
// one step per state (docs/protocol.md §4, "States"):
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
// id. When the DS's writes join the store's transactions (ctx.joined_ds),
// each step's DS write and transition are one transaction, and a verified
// TargetMigrationComplete goes on through the fan-out to `confirmed` in
// that same transaction (docs/protocol.md §4, "One commit per step"). Drive()
// holds the row's lease, records a failure with the context's back-off
// (protocol/drive_failure.h) and signals each step on watch(), so that an init
// handler waiting for the confirmation need not poll. Thread-safe.
#ifndef MIMI_PROTOCOL_SOURCE_DRIVER_H_
#define MIMI_PROTOCOL_SOURCE_DRIVER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "codec/mutex.h"
#include "protocol/context.h"
#include "protocol/lease.h"
#include "protocol/row_watch.h"
#include "protocol/work_queue.h"

namespace mimi::protocol {

class SourceDriver {
 public:
  SourceDriver(const ProtocolContext& ctx, WorkQueue& workers)
      : ctx_(ctx), workers_(workers) {}

  // Drives one migration as far as it can go now. OK when it is finished or
  // waiting for nothing; the failure otherwise (already recorded on the row).
  // With `lease` (the one the row was created with, MigrationLease::
  // ForNewRow), the drive takes no lease of its own.
  Status Drive(const std::string& id,
               std::unique_ptr<MigrationLease> lease = nullptr);

  // Asks to give the migration up (operator, client or timeout): allowed
  // before the target answered; the abort itself runs in Drive().
  Status RequestAbort(const std::string& id, const std::string& why);

  // Decides the abort of `row` (from its current state): signs and stores
  // the MigrationAbort that Drive() then sends. The caller holds the lease
  // or has just created the row.
  Status TransitionToAbort(const store::MigrationRecord& row,
                           const std::string& why);

  // Signalled after every step Drive() makes, on whichever thread.
  RowWatch& watch() { return watch_; }

  // The init handler froze the group of `id` itself (to refuse a lost race
  // at once, or in the row's creation) just before handing the row to
  // Drive(), and holds its commit and response: the first step then skips
  // its own freeze, an idempotent write of the same thing, and reads
  // neither message back. After a crash, or on another instance, nothing
  // is noted: the step freezes and reads.
  void NoteCreated(const std::string& id, const Bytes& commit,
                   const Bytes& response) EXCLUDES(frozen_mu_);

 private:
  // What one drive knows of its row's messages beyond the row: what the
  // init handler noted, and what the drive read or stored itself, so that
  // no step reads back a message this drive already holds.
  struct Memo {
    // Empty: not held (no stored message is empty).
    bool frozen = false;
    Bytes commit;
    Bytes response;
    Bytes confirmation;
  };

  Status Step(const store::MigrationRecord& row, Memo& memo);
  Status StepInitiated(const store::MigrationRecord& row, Memo& memo);
  Status StepContentSent(const store::MigrationRecord& row, Memo& memo);
  // Posts the persisted MigrationContent (read from the store here: rows
  // are read without their messages), reporting its upload to
  // ctx_.progress when there is one.
  Result<PeerResponse> SendContent(const store::MigrationRecord& row);
  // The row's stored message of `kind`; kInternal when it has none, since
  // every step reads only what an earlier transition stored.
  // From `memo` when it holds it (and kept there when read).
  Result<Bytes> Message(const store::MigrationRecord& row,
                        store::MessageKind kind, Memo& memo);
  Status StepTargetComplete(const store::MigrationRecord& row, Memo& memo);
  // The MigrationConfirmation's transition data (signed here).
  Result<store::TransitionData> ConfirmationData(
      const store::MigrationRecord& row);
  Status StepConfirmed(const store::MigrationRecord& row, Memo& memo);
  Status StepAbortRequested(const store::MigrationRecord& row, Memo& memo);
  Status AcceptComplete(const store::MigrationRecord& row,
                        const std::string& body, store::MigrationState from,
                        Memo& memo);

  // What NoteCreated(id, ...) noted, forgetting it; an empty memo if
  // nothing.
  Memo TakeCreated(const std::string& id) EXCLUDES(frozen_mu_);

  const ProtocolContext& ctx_;
  WorkQueue& workers_;
  RowWatch watch_;
  Mutex frozen_mu_;
  std::map<std::string, Memo> created_here_ GUARDED_BY(frozen_mu_);
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_SOURCE_DRIVER_H_
