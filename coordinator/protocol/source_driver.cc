#include "protocol/source_driver.h"

#include <algorithm>
#include <memory>
#include <span>
#include <utility>

#include "crypto/ciphersuite.h"
#include "crypto/hash.h"
#include "failpoint/failpoint.h"
#include "log/log.h"
#include "mimi_portability/endpoints.h"
#include "mimi_portability/messages.h"
#include "protocol/drive_failure.h"
#include "protocol/lease.h"
#include "protocol/peer_errors.h"
#include "protocol/sign.h"

namespace mimi::protocol {
namespace {

using store::MessageKind;
using store::MigrationState;
using store::Role;

Result<Nonce> NonceOf(const store::MigrationRecord& row) {
  MIMI_ASSIGN_OR_RETURN(Bytes raw, FromHex(row.id));
  if (raw.size() != 32) {
    return InternalError("migration id is not a 32-byte nonce");
  }
  Nonce n;
  std::copy(raw.begin(), raw.end(), n.begin());
  return n;
}

}  // namespace

Status SourceDriver::Drive(const std::string& id,
                           std::unique_ptr<MigrationLease> lease) {
  LeasedRow leased;
  if (lease != nullptr) {
    leased.lease = std::move(lease);
    MIMI_ASSIGN_OR_RETURN(leased.row, ctx_.store->Get(id, Role::kSource));
  } else {
    MIMI_ASSIGN_OR_RETURN(leased, LeaseRow(ctx_, id, Role::kSource));
  }
  store::MigrationRecord& row = leased.row;
  Memo memo = TakeCreated(id);
  // Each step moves the row on by one state; a whole migration is at most
  // five, an abort that rolls forward a few more.
  for (int steps = 0; steps < 10; ++steps) {
    if (steps > 0) {
      auto moved = ctx_.store->Get(id, Role::kSource);
      if (!moved.ok()) {
        // Not silent: the row stays due, and the next scan tries again.
        log::Warn(log::Migration{id},
                  "source: reading the row after {} failed: {}",
                  store::StateName(row.state), moved.status().ToString());
        return moved.status();
      }
      row = std::move(*moved);
    }
    if (store::IsTerminal(Role::kSource, row.state)) {
      // A step of this drive (or an abort meanwhile) ended the lease with
      // the row; a row found terminal at once still holds the one just
      // taken.
      if (steps > 0) leased.lease->EndedByTransition();
      return Status::Ok();
    }
    Status s = Step(row, memo);
    if (!s.ok()) RecordDriveFailure(ctx_, row, s);
    // The row moved on, or holds its failure: a waiter has news to read.
    watch_.Changed(id);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status SourceDriver::Step(const store::MigrationRecord& row, Memo& memo) {
  switch (row.state) {
    case MigrationState::kInitiated:
      return StepInitiated(row, memo);
    case MigrationState::kContentSent:
      return StepContentSent(row, memo);
    case MigrationState::kTargetComplete:
      return StepTargetComplete(row, memo);
    case MigrationState::kConfirmed:
      return StepConfirmed(row, memo);
    case MigrationState::kAbortRequested:
      return StepAbortRequested(row, memo);
    default:
      return InternalError("no step from state " +
                           std::string(store::StateName(row.state)));
  }
}

void SourceDriver::NoteCreated(const std::string& id, const Bytes& commit,
                               const Bytes& response) {
  MutexLock lock(frozen_mu_);
  // Entries leave in Drive(); one whose row another instance drove (or
  // that shutdown kept from its drive) would stay, so the map is bounded:
  // forgetting costs only the repeated freeze and two reads.
  if (created_here_.size() >= 4096) created_here_.clear();
  Memo& memo = created_here_[id];
  memo.frozen = true;
  memo.commit = commit;
  memo.response = response;
}

SourceDriver::Memo SourceDriver::TakeCreated(const std::string& id) {
  MutexLock lock(frozen_mu_);
  auto it = created_here_.find(id);
  if (it == created_here_.end()) return Memo();
  Memo memo;
  memo.frozen = it->second.frozen;
  memo.commit.swap(it->second.commit);
  memo.response.swap(it->second.response);
  created_here_.erase(it);
  return memo;
}

Status SourceDriver::StepInitiated(const store::MigrationRecord& row,
                                   Memo& memo) {
  if (!memo.frozen) {
    Status frozen = ctx_.ds->Freeze(row.group_id, row.epoch, row.id);
    if (!frozen.ok()) {
      if (IsFinalFreezeRefusal(frozen)) {
        return TransitionToAbort(row, "freeze refused: " + frozen.detail());
      }
      return frozen;
    }
    MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_freeze"));
    memo.frozen = true;
  }
  MIMI_ASSIGN_OR_RETURN(Bytes commit, Message(row, MessageKind::kCommit, memo));
  MIMI_ASSIGN_OR_RETURN(Bytes response_bytes,
                        Message(row, MessageKind::kResponse, memo));
  MIMI_ASSIGN_OR_RETURN(
      Bytes state, ctx_.ds->ExportGroupState(row.group_id, commit, row.id));
  MIMI_ASSIGN_OR_RETURN(MigrationResponse response,
                        Decode<MigrationResponse>(response_bytes));
  // The state becomes the content in place (no second copy of it).
  MIMI_ASSIGN_OR_RETURN(
      Bytes content_bytes,
      SignAndEncodeContent(ctx_, row.ciphersuite, response, std::move(state)));
  // The hash is defined over the serialized MigrationContent, which is
  // `content_bytes`: hashing it spares a second encoding of the whole state.
  MIMI_ASSIGN_OR_RETURN(auto cs, crypto::LookupCipherSuite(row.ciphersuite));
  MIMI_ASSIGN_OR_RETURN(Bytes hash, crypto::Hash(cs.hash, content_bytes));
  // Persisted before it is first sent, so every resend is byte-identical and
  // the target can recognise it.
  store::TransitionData data;
  data.content = std::move(content_bytes);
  data.content_hash = std::move(hash);
  data.detail = "group exported";
  MIMI_RETURN_IF_ERROR(ctx_.store
                           ->Transition(row.id, Role::kSource,
                                        MigrationState::kInitiated,
                                        MigrationState::kContentSent, data)
                           .status());
  return failpoint::Hit("source.after_persist_content_sent");
}

Result<Bytes> SourceDriver::Message(const store::MigrationRecord& row,
                                    MessageKind kind, Memo& memo) {
  Bytes* held = nullptr;
  switch (kind) {
    case MessageKind::kCommit:
      held = &memo.commit;
      break;
    case MessageKind::kResponse:
      held = &memo.response;
      break;
    case MessageKind::kConfirmation:
      held = &memo.confirmation;
      break;
    default:
      break;
  }
  if (held != nullptr && !held->empty()) return *held;
  MIMI_ASSIGN_OR_RETURN(Bytes body,
                        ctx_.store->GetMessage(row.id, Role::kSource, kind));
  if (body.empty()) {
    return InternalError("source migration " + row.id + " in state " +
                         std::string(store::StateName(row.state)) +
                         " has no stored " +
                         std::string(store::MessageKindName(kind)));
  }
  if (held != nullptr) *held = body;
  return body;
}

Result<PeerResponse> SourceDriver::SendContent(
    const store::MigrationRecord& row) {
  // Sent from the stored blob as it is read (docs/protocol.md, "Streamed
  // content"): one chunk in memory, not the whole content.
  MIMI_ASSIGN_OR_RETURN(
      std::unique_ptr<store::MessageStream> stream,
      ctx_.store->OpenMessage(row.id, Role::kSource, MessageKind::kContent));
  if (stream->size() == 0) {
    return InternalError("source migration " + row.id + " in state " +
                         std::string(store::StateName(row.state)) +
                         " has no stored " +
                         std::string(store::MessageKindName(MessageKind::kContent)));
  }
  BodySource body{stream->size(),
                  [&stream](uint64_t offset, std::span<uint8_t> out) {
                    return stream->Read(offset, out);
                  }};
  if (ctx_.progress == nullptr) {
    return ctx_.transport->PostStream(row.target_domain,
                                      endpoints::kContentPath, body,
                                      ProgressFn());
  }
  TransferProgress& progress = *ctx_.progress;
  progress.Begin(row.id, body.size);
  Result<PeerResponse> answer = ctx_.transport->PostStream(
      row.target_domain, endpoints::kContentPath, body,
      [&progress, &row](uint64_t sent, uint64_t) {
        progress.Update(row.id, sent);
      });
  progress.End(row.id);
  return answer;
}

Status SourceDriver::StepContentSent(const store::MigrationRecord& row,
                                     Memo& memo) {
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.before_send_content"));
  MIMI_ASSIGN_OR_RETURN(PeerResponse answer, SendContent(row));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_send_content"));
  if (answer.status == 200) {
    return AcceptComplete(row, answer.body, MigrationState::kContentSent, memo);
  }
  Status refused = PeerError(row.target_domain, answer);
  if (IsFinalRefusal(refused)) {
    return TransitionToAbort(row,
                             "target refused the content: " + refused.detail());
  }
  return refused;
}

Status SourceDriver::AcceptComplete(const store::MigrationRecord& row,
                                    const std::string& body,
                                    MigrationState from, Memo& memo) {
  MIMI_ASSIGN_OR_RETURN(TargetMigrationComplete complete,
                        Decode<TargetMigrationComplete>(ToBytes(body)));
  MIMI_RETURN_IF_ERROR(ctx_.resolver->VerifyMessage(row.target_domain,
                                                    row.ciphersuite, complete));
  if (complete.migration_content_hash != row.content_hash) {
    return Status(StatusCode::kInvalidArgument, "complete-hash-mismatch",
                  "TargetMigrationComplete is for other content");
  }
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_receive_complete"));
  store::TransitionData data;
  data.target_complete = ToBytes(body);
  data.detail = "target imported the group";
  if (ctx_.joined_ds != nullptr) {
    // One transaction records the verified TargetMigrationComplete, fans
    // the commit out and records the confirmation: the failpoints of the
    // three below mark the same instant.
    MIMI_ASSIGN_OR_RETURN(Bytes commit,
                          Message(row, MessageKind::kCommit, memo));
    MIMI_ASSIGN_OR_RETURN(store::TransitionData confirmed,
                          ConfirmationData(row));
    const store::JoinedWrite fan_out =
        ctx_.joined_ds->JoinFanOutCommit(row.group_id, commit, row.id);
    const store::Store::Move moves[] = {
        {from, MigrationState::kTargetComplete, &data, nullptr},
        {MigrationState::kTargetComplete, MigrationState::kConfirmed,
         &confirmed, &fan_out}};
    auto moved = ctx_.store->TransitionSteps(row.id, Role::kSource, moves);
    MIMI_RETURN_IF_ERROR(moved.status());
    // A repeat stored nothing of this call: its confirmation (ECDSA signs
    // afresh) may not be the stored one.
    if (*moved == store::TransitionOutcome::kApplied) {
      memo.confirmation = *confirmed.confirmation;
    }
    MIMI_RETURN_IF_ERROR(
        failpoint::Hit("source.after_persist_target_complete"));
    MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_fan_out"));
    return failpoint::Hit("source.after_persist_confirmed");
  }
  MIMI_RETURN_IF_ERROR(ctx_.store
                           ->Transition(row.id, Role::kSource, from,
                                        MigrationState::kTargetComplete, data)
                           .status());
  return failpoint::Hit("source.after_persist_target_complete");
}

Result<store::TransitionData> SourceDriver::ConfirmationData(
    const store::MigrationRecord& row) {
  MIMI_ASSIGN_OR_RETURN(Nonce nonce, NonceOf(row));
  MigrationConfirmation confirmation{
      ToBytes(row.target_domain), nonce, row.group_id, {}};
  MIMI_ASSIGN_OR_RETURN(Bytes bytes,
                        SignAndEncode(ctx_, row.ciphersuite, &confirmation));
  store::TransitionData data;
  data.confirmation = std::move(bytes);
  data.detail = "commit fanned out; confirmation signed";
  return data;
}

Status SourceDriver::StepTargetComplete(const store::MigrationRecord& row,
                                        Memo& memo) {
  MIMI_ASSIGN_OR_RETURN(Bytes commit, Message(row, MessageKind::kCommit, memo));
  if (ctx_.joined_ds != nullptr) {
    MIMI_ASSIGN_OR_RETURN(store::TransitionData data, ConfirmationData(row));
    const store::JoinedWrite fan_out =
        ctx_.joined_ds->JoinFanOutCommit(row.group_id, commit, row.id);
    const store::Store::Move move{MigrationState::kTargetComplete,
                                  MigrationState::kConfirmed, &data, &fan_out};
    auto moved = ctx_.store->TransitionSteps(row.id, Role::kSource, {&move, 1});
    MIMI_RETURN_IF_ERROR(moved.status());
    if (*moved == store::TransitionOutcome::kApplied) {
      memo.confirmation = *data.confirmation;
    }
    MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_fan_out"));
    return failpoint::Hit("source.after_persist_confirmed");
  }
  MIMI_RETURN_IF_ERROR(ctx_.ds->FanOutCommit(row.group_id, commit, row.id));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_fan_out"));
  MIMI_ASSIGN_OR_RETURN(store::TransitionData data, ConfirmationData(row));
  auto moved = ctx_.store->Transition(row.id, Role::kSource,
                                      MigrationState::kTargetComplete,
                                      MigrationState::kConfirmed, data);
  MIMI_RETURN_IF_ERROR(moved.status());
  if (*moved == store::TransitionOutcome::kApplied) {
    memo.confirmation = *data.confirmation;
  }
  return failpoint::Hit("source.after_persist_confirmed");
}

Status SourceDriver::StepConfirmed(const store::MigrationRecord& row,
                                   Memo& memo) {
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.before_purge"));
  MIMI_ASSIGN_OR_RETURN(Bytes confirmation,
                        Message(row, MessageKind::kConfirmation, memo));
  Tombstone tombstone{row.group_id, row.target_domain, ctx_.clock->NowMillis(),
                      std::move(confirmation)};
  store::TransitionData data;
  data.detail = "group state deleted; tombstone left";
  if (ctx_.joined_ds != nullptr) {
    const store::JoinedWrite purge =
        ctx_.joined_ds->JoinDeleteGroup(row.group_id, tombstone, row.id);
    const store::Store::Move move{MigrationState::kConfirmed,
                                  MigrationState::kPurged, &data, &purge};
    MIMI_RETURN_IF_ERROR(
        ctx_.store->TransitionSteps(row.id, Role::kSource, {&move, 1})
            .status());
    return failpoint::Hit("source.after_purge");
  }
  MIMI_RETURN_IF_ERROR(ctx_.ds->DeleteGroup(row.group_id, tombstone, row.id));
  MIMI_RETURN_IF_ERROR(ctx_.store
                           ->Transition(row.id, Role::kSource,
                                        MigrationState::kConfirmed,
                                        MigrationState::kPurged, data)
                           .status());
  return failpoint::Hit("source.after_purge");
}

Status SourceDriver::StepAbortRequested(const store::MigrationRecord& row,
                                        Memo& memo) {
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.before_send_abort"));
  MIMI_ASSIGN_OR_RETURN(Bytes abort_message,
                        Message(row, MessageKind::kAbortMessage, memo));
  MIMI_ASSIGN_OR_RETURN(
      PeerResponse answer,
      ctx_.transport->Post(row.target_domain, endpoints::kAbortPath,
                           abort_message));
  if (answer.status == 200) {
    MIMI_ASSIGN_OR_RETURN(MigrationAbortAck ack,
                          Decode<MigrationAbortAck>(ToBytes(answer.body)));
    MIMI_ASSIGN_OR_RETURN(Nonce nonce, NonceOf(row));
    if (ack.nonce != nonce) {
      return InvalidArgumentError(
          "MigrationAbortAck.nonce: not this migration's");
    }
    MIMI_RETURN_IF_ERROR(
        ctx_.resolver->VerifyMessage(row.target_domain, row.ciphersuite, ack));
    // Unfreeze before recording: a crash in between resends the abort, which
    // the target acknowledges again; the other order could leave the group
    // frozen forever behind a terminal row.
    MIMI_RETURN_IF_ERROR(ctx_.ds->Unfreeze(row.group_id, row.id));
    store::TransitionData data;
    data.abort_ack = ToBytes(answer.body);
    data.detail = "target acknowledged the abort; group unfrozen";
    MIMI_RETURN_IF_ERROR(ctx_.store
                             ->Transition(row.id, Role::kSource,
                                          MigrationState::kAbortRequested,
                                          MigrationState::kAborted, data)
                             .status());
    return failpoint::Hit("source.after_persist_aborted");
  }
  if (answer.status == 409 && answer.content_type == endpoints::kMediaType) {
    // The target had already imported: the group lives there; roll forward.
    return AcceptComplete(row, answer.body, MigrationState::kAbortRequested,
                          memo);
  }
  Status refused = PeerError(row.target_domain, answer);
  // Content exists when the abort was decided after content-sent; the
  // content hash says so without reading the content.
  if (refused.reason() == reason::kContentPending &&
      !row.content_hash.empty()) {
    MIMI_ASSIGN_OR_RETURN(PeerResponse resent, SendContent(row));
    if (resent.status == 200) {
      return AcceptComplete(row, resent.body, MigrationState::kAbortRequested,
                            memo);
    }
    return PeerError(row.target_domain, resent);
  }
  return refused;
}

Status SourceDriver::TransitionToAbort(const store::MigrationRecord& row,
                                       const std::string& why) {
  MIMI_ASSIGN_OR_RETURN(Nonce nonce, NonceOf(row));
  MigrationAbort abort{nonce, {}};
  MIMI_ASSIGN_OR_RETURN(Bytes bytes,
                        SignAndEncode(ctx_, row.ciphersuite, &abort));
  store::TransitionData data;
  data.abort_message = std::move(bytes);
  data.detail = why;
  return ctx_.store
      ->Transition(row.id, Role::kSource, row.state,
                   MigrationState::kAbortRequested, data)
      .status();
}

Status SourceDriver::RequestAbort(const std::string& id,
                                  const std::string& why) {
  {
    MIMI_ASSIGN_OR_RETURN(LeasedRow leased, LeaseRow(ctx_, id, Role::kSource));
    const store::MigrationRecord& row = leased.row;
    switch (row.state) {
      case MigrationState::kAbortRequested:
      case MigrationState::kAborted:
        return Status::Ok();
      case MigrationState::kInitiated:
      case MigrationState::kContentSent:
        MIMI_RETURN_IF_ERROR(TransitionToAbort(row, why));
        break;
      default:
        return Status(StatusCode::kFailedPrecondition, "too-late",
                      "migration " + id + " is " +
                          std::string(store::StateName(row.state)) +
                          ": the target has the group; it can only finish");
    }
  }
  workers_.Post([this, id] { (void)Drive(id); });
  return Status::Ok();
}

}  // namespace mimi::protocol
