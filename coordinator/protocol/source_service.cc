#include "protocol/source_service.h"

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "crypto/ciphersuite.h"
#include "crypto/hash.h"
#include "crypto/message_signing.h"
#include "crypto/public_key.h"
#include "failpoint/failpoint.h"
#include "mimi_portability/ds_reason.h"
#include "mimi_portability/messages.h"
#include "mls/mls_message.h"
#include "protocol/lease.h"
#include "protocol/policy.h"
#include "protocol/sign.h"

namespace mimi::protocol {
namespace {

using store::MigrationState;
using store::Role;

constexpr char kContentPath[] = "/mimi-portability/v1/content";
constexpr char kAbortPath[] = "/mimi-portability/v1/abort";

// The peer's refusal as a Status: the HTTP status picks the code, the JSON
// body's `error` is kept as the reason.
Status PeerError(const std::string& peer, const PeerResponse& r) {
  StatusCode code = StatusCode::kFailedPrecondition;
  if (r.status >= 500 || r.status == 429) {
    code = StatusCode::kUnavailable;
  } else if (r.status == 400) {
    code = StatusCode::kMalformed;
  } else if (r.status == 403) {
    code = StatusCode::kPermissionDenied;
  } else if (r.status == 404) {
    code = StatusCode::kNotFound;
  } else if (r.status == 413 || r.status == 415 || r.status == 422) {
    code = StatusCode::kInvalidArgument;
  }
  std::string why = "http-" + std::to_string(r.status);
  std::string detail;
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_object()) {
    why = body.value("error", why);
    detail = body.value("detail", "");
  }
  if (why == "bad-signature") code = StatusCode::kBadSignature;
  return Status(code, why, "peer " + peer + " answered " +
                               std::to_string(r.status) + " " + why +
                               (detail.empty() ? "" : ": " + detail));
}

// Whether the target's refusal means it will never import under this nonce.
// A bad signature may be our rotated key not yet fetched there: retry.
bool IsFinalRefusal(const Status& s) {
  return s.code() != StatusCode::kUnavailable &&
         s.code() != StatusCode::kBadSignature && s.reason() != reason::kBusy;
}

// DS answers that make a freeze impossible for good.
bool IsFinalFreezeRefusal(const Status& s) {
  const std::string_view r = s.reason();
  return r == reason::kGroupFrozen || r == reason::kEpochMismatch ||
         r == ds_reason::kMoved || r == reason::kUnknownGroup;
}

Result<Nonce> NonceOf(const store::MigrationRecord& row) {
  MIMI_ASSIGN_OR_RETURN(Bytes raw, FromHex(row.id));
  if (raw.size() != 32) return InternalError("migration id is not a 32-byte nonce");
  Nonce n;
  std::copy(raw.begin(), raw.end(), n.begin());
  return n;
}

}  // namespace

SourceService::SourceService(const ProtocolContext& ctx, WorkQueue& workers,
                             std::function<double()> jitter)
    : ctx_(ctx), workers_(workers), jitter_(std::move(jitter)) {}

Result<InitAnswer> SourceService::HandleInit(ByteSpan body,
                                             std::chrono::milliseconds wait) {
  MIMI_ASSIGN_OR_RETURN(MigrationInitRequest init_request,
                        Decode<MigrationInitRequest>(body));
  const MigrationResponse& response = init_request.migration_init.migration_response;
  const MigrationRequest& request = response.migration_request;
  const std::string id = ToHex(response.nonce);
  const Bytes body_bytes(body.begin(), body.end());

  // The same init again (a client retrying): answer where it stands.
  if (auto existing = ctx_.store->Get(id, Role::kSource); existing.ok()) {
    if (existing->init_request != body_bytes) {
      return Refuse(StatusCode::kFailedPrecondition, reason::kNonceUsed,
                    "migration " + id + " was initiated with other data");
    }
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  } else {
    // --- Checks; none of them changes anything. ---
    const std::string source = ToString(request.source_domain_name);
    const std::string target = ToString(request.target_domain_name);
    if (source != ctx_.domain) {
      return Refuse(StatusCode::kInvalidArgument, reason::kWrongSource,
                    "the MigrationRequest names source " + source +
                        ", this is " + ctx_.domain);
    }
    if (Status s = keys::ValidateDomainName(target); !s.ok() || target == ctx_.domain) {
      return Refuse(StatusCode::kInvalidArgument, reason::kNotTarget,
                    "the target must be another DS's domain name");
    }
    MIMI_RETURN_IF_ERROR(CheckPeerAllowed(*ctx_.config, target));
    MIMI_ASSIGN_OR_RETURN(GroupSummary group, ctx_.ds->LookupGroup(request.group_id));
    if (group.frozen) {
      return Refuse(StatusCode::kFailedPrecondition, reason::kGroupFrozen,
                    "the group is frozen by migration " + group.migration_id);
    }
    if (group.epoch != request.epoch) {
      return Refuse(StatusCode::kFailedPrecondition, reason::kEpochMismatch,
                    "the group is at epoch " + std::to_string(group.epoch) +
                        ", the request names " + std::to_string(request.epoch));
    }
    const uint16_t suite = group.ciphersuite;
    auto cs = crypto::LookupCipherSuite(suite);
    const auto& suites = ctx_.config->ciphersuites;
    if (!cs.ok() || std::find(suites.begin(), suites.end(), suite) == suites.end()) {
      return Refuse(StatusCode::kUnsupported, reason::kUnsupportedCipherSuite,
                    "this DS does not sign with ciphersuite " + std::to_string(suite));
    }
    // The client: a member, proven by its leaf's signature key.
    MIMI_ASSIGN_OR_RETURN(Bytes leaf_key,
                          ctx_.ds->MemberSignatureKey(request.group_id,
                                                      init_request.sender_leaf_index));
    auto client_key = crypto::PublicKey::Parse(cs->signature_scheme, leaf_key);
    if (!client_key.ok()) {
      return Refuse(StatusCode::kInvalidArgument, reason::kUnknownLeaf,
                    "the leaf's signature key is unusable: " +
                        client_key.status().detail());
    }
    MIMI_RETURN_IF_ERROR(
        crypto::VerifyMessage(*client_key, init_request.migration_init));
    // The target's promise.
    MIMI_RETURN_IF_ERROR(ctx_.resolver->VerifyMessage(target, suite, response));
    // The tagged commit, as far as a DS can see it.
    MIMI_ASSIGN_OR_RETURN(mls::MlsMessage commit,
                          mls::DecodeMlsMessage(init_request.commit));
    if (commit.group_id() != request.group_id) {
      return Refuse(StatusCode::kInvalidArgument, reason::kCommitWrongGroup,
                    "the commit is for another group");
    }
    if (commit.epoch() != group.epoch) {
      return Refuse(StatusCode::kInvalidArgument, reason::kCommitWrongEpoch,
                    "the commit is for epoch " + std::to_string(commit.epoch()));
    }
    if (commit.content_type() != mls::ContentType::kCommit) {
      return Refuse(StatusCode::kInvalidArgument, reason::kNotACommit,
                    "the message is a " +
                        std::string(mls::ContentTypeName(commit.content_type())));
    }
    MIMI_ASSIGN_OR_RETURN(Bytes expected_aad,
                          Encode(MigrationCommitAAD{ToBytes(target)}));
    if (commit.authenticated_data() != expected_aad) {
      return Refuse(StatusCode::kInvalidArgument, reason::kAadMismatch,
                    "the commit's authenticated_data is not MigrationCommitAAD{" +
                        target + "}");
    }
    if (auto sender = commit.sender_leaf_index();
        sender && *sender != init_request.sender_leaf_index) {
      return Refuse(StatusCode::kInvalidArgument, reason::kCommitWrongSender,
                    "the commit is from leaf " + std::to_string(*sender) +
                        ", the init from leaf " +
                        std::to_string(init_request.sender_leaf_index));
    }
    MIMI_RETURN_IF_ERROR(CheckCooldown(*ctx_.config, *ctx_.store, request.group_id,
                                       ctx_.clock->NowMillis()));

    // --- Persist, then freeze. ---
    store::MigrationRecord row;
    row.id = id;
    row.role = Role::kSource;
    row.group_id = request.group_id;
    row.epoch = request.epoch;
    row.ciphersuite = suite;
    row.source_domain = source;
    row.target_domain = target;
    MIMI_ASSIGN_OR_RETURN(row.request, Encode(request));
    MIMI_ASSIGN_OR_RETURN(row.response, Encode(response));
    row.init_request = body_bytes;
    row.commit = init_request.commit;
    MIMI_RETURN_IF_ERROR(failpoint::Hit("source.before_persist_initiated"));
    Status created = ctx_.store->CreateSourceMigration(
        row, "init by leaf " + std::to_string(init_request.sender_leaf_index));
    if (created.code() == StatusCode::kAlreadyExists) {
      // Lost a race with another init of this group, or of this very nonce.
      auto again = ctx_.store->Get(id, Role::kSource);
      if (!again.ok() || again->init_request != body_bytes) {
        return Refuse(StatusCode::kFailedPrecondition, reason::kGroupFrozen,
                      "another migration of this group is under way");
      }
    } else {
      MIMI_RETURN_IF_ERROR(created);
      MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_persist_initiated"));
      Status frozen = ctx_.ds->Freeze(row.group_id, row.epoch, id);
      if (!frozen.ok() && IsFinalFreezeRefusal(frozen)) {
        // A commit won the race for this epoch: give the nonce back.
        auto fresh = ctx_.store->Get(id, Role::kSource);
        if (fresh.ok()) {
          (void)TransitionToAbort(*fresh, "freeze refused: " + frozen.detail());
        }
        workers_.Post([this, id] { (void)Drive(id); });
        return frozen;
      }
      if (frozen.ok()) MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_freeze"));
    }
  }

  // --- Drive it off the request thread; answer within `wait`. ---
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  if (workers_.Post([this, id, done] {
        (void)Drive(id);
        done->set_value();
      })) {
    finished.wait_until(deadline);
  }
  // Our Drive may have found the row leased by the recovery loop, which is
  // driving it right now: watch the row, not just our own attempt.
  MIMI_ASSIGN_OR_RETURN(store::MigrationRecord row, ctx_.store->Get(id, Role::kSource));
  while (row.confirmation.empty() &&
         !store::IsTerminal(Role::kSource, row.state) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    MIMI_ASSIGN_OR_RETURN(row, ctx_.store->Get(id, Role::kSource));
  }
  InitAnswer answer;
  answer.id = id;
  answer.state = std::string(store::StateName(row.state));
  if (!row.confirmation.empty()) {
    answer.confirmed = true;
    answer.confirmation = row.confirmation;
  } else if (row.state == MigrationState::kAborted) {
    return Refuse(StatusCode::kFailedPrecondition, reason::kMigrationAborted,
                  "migration " + id + " was aborted: " + row.last_error);
  }
  return answer;
}

Status SourceService::Drive(const std::string& id) {
  MIMI_ASSIGN_OR_RETURN(auto lease,
                        MigrationLease::Acquire(*ctx_.store, id, Role::kSource,
                                                ctx_.instance_id,
                                                ctx_.config->recovery.lease_ms));
  // Each step moves the row on by one state; a whole migration is at most
  // five, an abort that rolls forward a few more.
  for (int steps = 0; steps < 10; ++steps) {
    MIMI_ASSIGN_OR_RETURN(store::MigrationRecord row,
                          ctx_.store->Get(id, Role::kSource));
    if (store::IsTerminal(Role::kSource, row.state)) return Status::Ok();
    Status s = Step(row);
    if (!s.ok()) {
      RecordFailure(row, s);
      return s;
    }
  }
  return Status::Ok();
}

Status SourceService::Step(store::MigrationRecord& row) {
  switch (row.state) {
    case MigrationState::kInitiated: return StepInitiated(row);
    case MigrationState::kContentSent: return StepContentSent(row);
    case MigrationState::kTargetComplete: return StepTargetComplete(row);
    case MigrationState::kConfirmed: return StepConfirmed(row);
    case MigrationState::kAbortRequested: return StepAbortRequested(row);
    default: return InternalError("no step from state " +
                                  std::string(store::StateName(row.state)));
  }
}

Status SourceService::StepInitiated(const store::MigrationRecord& row) {
  Status frozen = ctx_.ds->Freeze(row.group_id, row.epoch, row.id);
  if (!frozen.ok()) {
    if (IsFinalFreezeRefusal(frozen)) {
      return TransitionToAbort(row, "freeze refused: " + frozen.detail());
    }
    return frozen;
  }
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_freeze"));
  MIMI_ASSIGN_OR_RETURN(Bytes state,
                        ctx_.ds->ExportGroupState(row.group_id, row.commit, row.id));
  MIMI_ASSIGN_OR_RETURN(MigrationResponse response,
                        Decode<MigrationResponse>(row.response));
  Bytes content_bytes;
  {
    MigrationContent content{std::move(response), std::move(state), {}};
    MIMI_ASSIGN_OR_RETURN(content_bytes,
                          SignAndEncode(ctx_, row.ciphersuite, &content));
  }  // the decoded copy of the state goes before the store writes the content
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
                           ->Transition(row.id, Role::kSource, MigrationState::kInitiated,
                                        MigrationState::kContentSent, data)
                           .status());
  return failpoint::Hit("source.after_persist_content_sent");
}

Result<PeerResponse> SourceService::SendContent(const store::MigrationRecord& row) {
  if (ctx_.progress == nullptr) {
    return ctx_.transport->Post(row.target_domain, kContentPath, row.content);
  }
  TransferProgress& progress = *ctx_.progress;
  progress.Begin(row.id, row.content.size());
  Result<PeerResponse> answer = ctx_.transport->Post(
      row.target_domain, kContentPath, row.content,
      [&progress, &row](uint64_t sent, uint64_t) { progress.Update(row.id, sent); });
  progress.End(row.id);
  return answer;
}

Status SourceService::StepContentSent(const store::MigrationRecord& row) {
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.before_send_content"));
  MIMI_ASSIGN_OR_RETURN(PeerResponse answer, SendContent(row));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_send_content"));
  if (answer.status == 200) {
    return AcceptComplete(row, answer.body, MigrationState::kContentSent);
  }
  Status refused = PeerError(row.target_domain, answer);
  if (IsFinalRefusal(refused)) {
    return TransitionToAbort(row, "target refused the content: " + refused.detail());
  }
  return refused;
}

Status SourceService::AcceptComplete(const store::MigrationRecord& row,
                                     const std::string& body,
                                     MigrationState from) {
  MIMI_ASSIGN_OR_RETURN(TargetMigrationComplete complete,
                        Decode<TargetMigrationComplete>(ToBytes(body)));
  MIMI_RETURN_IF_ERROR(
      ctx_.resolver->VerifyMessage(row.target_domain, row.ciphersuite, complete));
  if (complete.migration_content_hash != row.content_hash) {
    return Status(StatusCode::kInvalidArgument, "complete-hash-mismatch",
                  "TargetMigrationComplete is for other content");
  }
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_receive_complete"));
  store::TransitionData data;
  data.target_complete = ToBytes(body);
  data.detail = "target imported the group";
  MIMI_RETURN_IF_ERROR(ctx_.store
                           ->Transition(row.id, Role::kSource, from,
                                        MigrationState::kTargetComplete, data)
                           .status());
  return failpoint::Hit("source.after_persist_target_complete");
}

Status SourceService::StepTargetComplete(const store::MigrationRecord& row) {
  MIMI_RETURN_IF_ERROR(ctx_.ds->FanOutCommit(row.group_id, row.commit, row.id));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.after_fan_out"));
  MIMI_ASSIGN_OR_RETURN(Nonce nonce, NonceOf(row));
  MigrationConfirmation confirmation{ToBytes(row.target_domain), nonce,
                                     row.group_id, {}};
  MIMI_ASSIGN_OR_RETURN(Bytes bytes,
                        SignAndEncode(ctx_, row.ciphersuite, &confirmation));
  store::TransitionData data;
  data.confirmation = std::move(bytes);
  data.detail = "commit fanned out; confirmation signed";
  MIMI_RETURN_IF_ERROR(ctx_.store
                           ->Transition(row.id, Role::kSource,
                                        MigrationState::kTargetComplete,
                                        MigrationState::kConfirmed, data)
                           .status());
  return failpoint::Hit("source.after_persist_confirmed");
}

Status SourceService::StepConfirmed(const store::MigrationRecord& row) {
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.before_purge"));
  Tombstone tombstone{row.group_id, row.target_domain, ctx_.clock->NowMillis(),
                      row.confirmation};
  MIMI_RETURN_IF_ERROR(ctx_.ds->DeleteGroup(row.group_id, tombstone, row.id));
  store::TransitionData data;
  data.detail = "group state deleted; tombstone left";
  MIMI_RETURN_IF_ERROR(ctx_.store
                           ->Transition(row.id, Role::kSource, MigrationState::kConfirmed,
                                        MigrationState::kPurged, data)
                           .status());
  return failpoint::Hit("source.after_purge");
}

Status SourceService::StepAbortRequested(const store::MigrationRecord& row) {
  MIMI_RETURN_IF_ERROR(failpoint::Hit("source.before_send_abort"));
  MIMI_ASSIGN_OR_RETURN(PeerResponse answer,
                        ctx_.transport->Post(row.target_domain, kAbortPath,
                                             row.abort_message));
  if (answer.status == 200) {
    MIMI_ASSIGN_OR_RETURN(MigrationAbortAck ack,
                          Decode<MigrationAbortAck>(ToBytes(answer.body)));
    MIMI_ASSIGN_OR_RETURN(Nonce nonce, NonceOf(row));
    if (ack.nonce != nonce) {
      return InvalidArgumentError("MigrationAbortAck.nonce: not this migration's");
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
  if (answer.status == 409 && answer.content_type == kContentType) {
    // The target had already imported: the group lives there; roll forward.
    return AcceptComplete(row, answer.body, MigrationState::kAbortRequested);
  }
  Status refused = PeerError(row.target_domain, answer);
  if (refused.reason() == reason::kContentPending && !row.content.empty()) {
    MIMI_ASSIGN_OR_RETURN(PeerResponse resent, SendContent(row));
    if (resent.status == 200) {
      return AcceptComplete(row, resent.body, MigrationState::kAbortRequested);
    }
    return PeerError(row.target_domain, resent);
  }
  return refused;
}

Status SourceService::TransitionToAbort(const store::MigrationRecord& row,
                                        const std::string& why) {
  MIMI_ASSIGN_OR_RETURN(Nonce nonce, NonceOf(row));
  MigrationAbort abort{nonce, {}};
  MIMI_ASSIGN_OR_RETURN(Bytes bytes, SignAndEncode(ctx_, row.ciphersuite, &abort));
  store::TransitionData data;
  data.abort_message = std::move(bytes);
  data.detail = why;
  return ctx_.store
      ->Transition(row.id, Role::kSource, row.state,
                   MigrationState::kAbortRequested, data)
      .status();
}

Status SourceService::RequestAbort(const std::string& id, const std::string& why) {
  {
    MIMI_ASSIGN_OR_RETURN(auto lease,
                          MigrationLease::Acquire(*ctx_.store, id, Role::kSource,
                                                  ctx_.instance_id,
                                                  ctx_.config->recovery.lease_ms));
    MIMI_ASSIGN_OR_RETURN(store::MigrationRecord row,
                          ctx_.store->Get(id, Role::kSource));
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

void SourceService::RecordFailure(const store::MigrationRecord& row,
                                  const Status& error) {
  if (error.reason() == reason::kBusy) return;  // someone else is on it
  const auto& rc = ctx_.config->recovery;
  const int64_t attempts = row.attempt_count + 1;
  const int shift = static_cast<int>(std::min<int64_t>(attempts - 1, 30));
  const int64_t ceiling =
      std::min<int64_t>(rc.backoff_max_ms, rc.backoff_initial_ms << shift);
  // Full jitter: spreads retries of many migrations after a shared outage.
  const int64_t delay = static_cast<int64_t>(jitter_() * static_cast<double>(ceiling));
  (void)ctx_.store->RecordFailure(row.id, Role::kSource, error.ToString(),
                                  ctx_.clock->NowMillis() + delay,
                                  attempts >= rc.max_attempts);
}

}  // namespace mimi::protocol
