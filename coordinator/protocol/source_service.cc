#include "protocol/source_service.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>

#include "failpoint/failpoint.h"
#include "mimi_portability/messages.h"
#include "protocol/init_admission.h"
#include "protocol/peer_errors.h"
#include "protocol/refusal.h"
#include "protocol/row_watch.h"
#include "store/transitions.h"

namespace mimi::protocol {

using store::MigrationState;
using store::Role;

SourceService::SourceService(const ProtocolContext& ctx, WorkQueue& workers)
    : ctx_(ctx), workers_(workers), driver_(ctx, workers) {}

bool SourceService::PostDrive(const std::string& id,
                              std::unique_ptr<MigrationLease> lease,
                              std::shared_ptr<std::promise<void>> done) {
  // A job must be copyable; the lease goes with it, and is released with it
  // if the queue refuses the job (shutting down).
  auto carried =
      std::make_shared<std::unique_ptr<MigrationLease>>(std::move(lease));
  return workers_.Post([this, id, carried, done] {
    (void)Drive(id, std::move(*carried));
    if (done != nullptr) done->set_value();
  });
}

Result<InitAnswer> SourceService::HandleInit(ByteSpan body,
                                             std::chrono::milliseconds wait) {
  MIMI_ASSIGN_OR_RETURN(MigrationInitRequest init_request,
                        Decode<MigrationInitRequest>(body));
  const MigrationResponse& response = init_request.migration_init.migration_response;
  const MigrationRequest& request = response.migration_request;
  const std::string id = ToHex(response.nonce);
  const Bytes body_bytes(body.begin(), body.end());
  // The lease the row is created with, handed to the drive below (null when
  // the row existed already, or this process is creating it right now).
  std::unique_ptr<MigrationLease> lease;

  // The same init again (a client retrying): answer where it stands.
  if (auto existing = ctx_.store->GetMessage(id, Role::kSource,
                                             store::MessageKind::kInitRequest);
      existing.ok()) {
    if (*existing != body_bytes) {
      return Refuse(StatusCode::kFailedPrecondition, reason::kNonceUsed,
                    "migration " + id + " was initiated with other data");
    }
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  } else {
    MIMI_ASSIGN_OR_RETURN(AdmittedInit admitted, AdmitInit(ctx_, init_request));

    // --- Persist, then freeze (or both in one transaction). ---
    store::MigrationRecord row;
    row.id = id;
    row.role = Role::kSource;
    row.group_id = request.group_id;
    row.epoch = request.epoch;
    row.ciphersuite = admitted.ciphersuite;
    row.source_domain = admitted.source;
    row.target_domain = admitted.target;
    MIMI_ASSIGN_OR_RETURN(row.request, Encode(request));
    MIMI_ASSIGN_OR_RETURN(row.response, Encode(response));
    row.init_request = body_bytes;
    row.commit = init_request.commit;
    MIMI_RETURN_IF_ERROR(failpoint::Hit("source.before_persist_initiated"));
    // Born leased to the drive below, so that taking the lease rides on the
    // creation, and no other driver (the recovery loop, another instance)
    // takes the row up before that drive does. A concurrent init of the
    // same nonce in this process goes on without one (busy), and ends in
    // the kAlreadyExists branch or waits for the row.
    if (auto fresh =
            MigrationLease::ForNewRow(*ctx_.store, ctx_.held_leases, id,
                                      Role::kSource, ctx_.lease_holder);
        fresh.ok()) {
      lease = std::move(*fresh);
      row.lease_owner = lease->owner();
      row.lease_expires_at =
          ctx_.clock->NowMillis() + ctx_.options->recovery.lease_ms;
    }
    const std::string detail =
        "init by leaf " + std::to_string(init_request.sender_leaf_index);
    Status created;
    bool frozen_with_row = false;
    if (ctx_.joined_ds != nullptr) {
      // The freeze rides on the row's creation: one transaction, and no row
      // without a frozen group. A freeze refused for good falls through to
      // the path below, which records the migration and gives the nonce
      // back to the target, as before.
      const store::JoinedWrite freeze =
          ctx_.joined_ds->JoinFreeze(row.group_id, row.epoch, id);
      created = ctx_.store->CreateSourceMigration(row, detail, &freeze);
      frozen_with_row = created.ok();
      if (!created.ok() && IsFinalFreezeRefusal(created)) {
        created = ctx_.store->CreateSourceMigration(row, detail);
      }
    } else {
      created = ctx_.store->CreateSourceMigration(row, detail);
    }
    if (created.ok() && lease != nullptr) lease->Created();
    if (!created.ok()) lease.reset();  // the store holds nothing of it
    if (created.code() == StatusCode::kAlreadyExists) {
      // Lost a race with another init of this group, or of this very nonce.
      auto again = ctx_.store->GetMessage(id, Role::kSource,
                                          store::MessageKind::kInitRequest);
      if (!again.ok() || *again != body_bytes) {
        return Refuse(StatusCode::kFailedPrecondition, reason::kGroupFrozen,
                      "another migration of this group is under way");
      }
    } else {
      MIMI_RETURN_IF_ERROR(created);
      MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_persist_initiated"));
      Status frozen = frozen_with_row
                          ? Status::Ok()
                          : ctx_.ds->Freeze(row.group_id, row.epoch, id);
      if (!frozen.ok() && IsFinalFreezeRefusal(frozen)) {
        // A commit won the race for this epoch: give the nonce back.
        auto fresh = ctx_.store->Get(id, Role::kSource);
        if (fresh.ok()) {
          (void)driver_.TransitionToAbort(*fresh, "freeze refused: " + frozen.detail());
        }
        PostDrive(id, std::move(lease));
        return frozen;
      }
      if (frozen.ok()) {
        MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_freeze"));
        driver_.NoteCreated(id, row.commit, row.response);
      }
    }
  }

  // --- Drive it off the request thread; answer within `wait`. ---
  // Watching from before the drive starts, so that no step is missed.
  RowWatch::Waiter waiter(driver_.watch(), id);
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  if (PostDrive(id, std::move(lease), done)) finished.wait_until(deadline);
  // Our Drive may have found the row leased by the recovery loop, which is
  // driving it right now: wait for the row, not just for our own attempt,
  // woken by each step the driver makes. A driver in another process sends
  // no signal here, so look again every kRecheck at the latest.
  // Rows come without their messages: the state says when there is a
  // confirmation to read.
  constexpr auto kRecheck = std::chrono::milliseconds(250);
  auto has_confirmation = [](const store::MigrationRecord& r) {
    return store::HoldsConfirmation(Role::kSource, r.state);
  };
  MIMI_ASSIGN_OR_RETURN(store::MigrationRecord row, ctx_.store->Get(id, Role::kSource));
  while (!has_confirmation(row) &&
         !store::IsTerminal(Role::kSource, row.state)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    (void)waiter.WaitForChange(std::min(deadline, now + kRecheck));
    MIMI_ASSIGN_OR_RETURN(row, ctx_.store->Get(id, Role::kSource));
  }
  InitAnswer answer;
  answer.id = id;
  answer.state = std::string(store::StateName(row.state));
  if (has_confirmation(row)) {
    MIMI_ASSIGN_OR_RETURN(
        answer.confirmation,
        ctx_.store->GetMessage(id, Role::kSource,
                               store::MessageKind::kConfirmation));
    answer.confirmed = true;
  } else if (row.state == MigrationState::kAborted) {
    return Refuse(StatusCode::kFailedPrecondition, reason::kMigrationAborted,
                  "migration " + id + " was aborted: " + row.last_error);
  }
  return answer;
}

}  // namespace mimi::protocol
