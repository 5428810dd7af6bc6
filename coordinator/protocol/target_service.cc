#include "protocol/target_service.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "crypto/ciphersuite.h"
#include "crypto/hash.h"
#include "crypto/labeled_signature.h"
#include "crypto/message_signing.h"
#include "crypto/random.h"
#include "failpoint/failpoint.h"
#include "mimi_portability/group_state.h"
#include "mimi_portability/messages.h"
#include "protocol/lease.h"
#include "protocol/policy.h"
#include "protocol/sign.h"

namespace mimi::protocol {
namespace {

using store::MigrationState;
using store::Role;

Result<uint16_t> ParseSuiteHeader(const std::optional<std::string>& header) {
  if (!header) {
    return Refuse(StatusCode::kInvalidArgument, reason::kMissingCipherSuite,
                  "the MIMI-Cipher-Suite header must name the group's "
                  "ciphersuite");
  }
  uint32_t v = 0;
  const char* end = header->data() + header->size();
  auto [ptr, ec] = std::from_chars(header->data(), end, v);
  if (ec != std::errc() || ptr != end || v > 0xffff) {
    return MalformedError("MIMI-Cipher-Suite: not a decimal ciphersuite id");
  }
  return static_cast<uint16_t>(v);
}

// Hash(serialized MigrationContent) over the bytes as received. They are
// the serialization: the decoder takes minimal encodings only, so encoding
// the decoded content again (a copy of the whole state) gives the same bytes.
// Usually taken as the body arrived (content_body.h).
Result<Bytes> ContentHash(uint16_t suite, ContentBody& body) {
  MIMI_ASSIGN_OR_RETURN(crypto::CipherSuite cs, crypto::LookupCipherSuite(suite));
  return body.Hash(cs.hash);
}

}  // namespace

Result<Bytes> TargetService::HandleRequest(
    ByteSpan body, const std::optional<std::string>& suite_header,
    const std::string& authorization) {
  MIMI_ASSIGN_OR_RETURN(MigrationRequest request, Decode<MigrationRequest>(body));
  MIMI_ASSIGN_OR_RETURN(uint16_t suite, ParseSuiteHeader(suite_header));
  const auto& suites = ctx_.options->ciphersuites;
  if (std::find(suites.begin(), suites.end(), suite) == suites.end()) {
    return Refuse(StatusCode::kUnsupported, reason::kUnsupportedCipherSuite,
                  "this DS does not serve ciphersuite " + std::to_string(suite));
  }
  std::string client = "any";
  if (ctx_.options->target_policy == TargetPolicy::kClientToken) {
    MIMI_ASSIGN_OR_RETURN(client, ctx_.client_tokens->Check(authorization));
  }
  const std::string target = ToString(request.target_domain_name);
  const std::string source = ToString(request.source_domain_name);
  if (target != ctx_.domain) {
    return Refuse(StatusCode::kInvalidArgument, reason::kNotTarget,
                  "this is " + ctx_.domain + ", not the named target");
  }
  if (Status s = keys::ValidateDomainName(source); !s.ok() || source == ctx_.domain) {
    return Refuse(StatusCode::kInvalidArgument, reason::kWrongSource,
                  "the source must be another DS's domain name");
  }
  MIMI_RETURN_IF_ERROR(CheckPeerAllowed(*ctx_.options, source));
  auto existing = ctx_.ds->LookupGroup(request.group_id);
  if (existing.ok()) {
    return Refuse(StatusCode::kAlreadyExists, reason::kGroupExists,
                  "a group with this id already lives here");
  }
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();

  MIMI_ASSIGN_OR_RETURN(Nonce nonce, crypto::RandomNonce());
  MigrationResponse response{request, nonce, {}};
  MIMI_ASSIGN_OR_RETURN(Bytes response_bytes,
                        SignAndEncode(ctx_, suite, &response));

  store::MigrationRecord row;
  row.id = ToHex(nonce);
  row.role = Role::kTarget;
  row.group_id = request.group_id;
  row.epoch = request.epoch;
  row.ciphersuite = suite;
  row.source_domain = source;
  row.target_domain = target;
  row.request.assign(body.begin(), body.end());
  row.response = response_bytes;
  const UnixMillis expires =
      ctx_.clock->NowMillis() + ctx_.options->response_ttl_seconds * 1000;
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.before_persist_requested"));
  MIMI_RETURN_IF_ERROR(ctx_.store->CreateTargetMigration(
      row, expires, "request by client " + client + " from " + source));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.after_persist_requested"));
  return response_bytes;
}

Result<Bytes> TargetService::HandleContent(ByteSpan body) {
  ContentBody received(body.size());
  received.Append(body);
  return HandleContent(std::move(received));
}

Result<Bytes> TargetService::HandleContent(ContentBody body) {
  MIMI_ASSIGN_OR_RETURN(MigrationContentView content,
                        DecodeMigrationContentView(body.bytes()));
  const std::string id = ToHex(content.migration_response.nonce);
  auto found = ctx_.store->Get(id, Role::kTarget);
  if (found.status().code() == StatusCode::kNotFound) {
    return Refuse(StatusCode::kNotFound, reason::kUnknownNonce,
                  "this DS issued no nonce " + id);
  }
  MIMI_RETURN_IF_ERROR(found.status());
  if (ctx_.joined_ds != nullptr) {
    // No lease to take (a write of its own): the import and its record
    // commit together, and only from `requested`.
    return ContentLocked(content, body, *found);
  }
  // Another driver may have moved the row on since `found` was read.
  MIMI_ASSIGN_OR_RETURN(LeasedRow leased, LeaseRow(ctx_, id, Role::kTarget));
  const bool was_requested = leased.row.state == MigrationState::kRequested;
  Result<Bytes> complete = ContentLocked(content, body, leased.row);
  // From requested, success is the move to imported, a terminal state: the
  // transition ended the lease.
  if (complete.ok() && was_requested) leased.lease->EndedByTransition();
  return complete;
}

std::optional<Result<Bytes>> TargetService::SettledAnswer(
    const store::MigrationRecord& row,
    const std::function<Result<Bytes>()>& hash) {
  switch (row.state) {
    case MigrationState::kImported: {
      Result<Bytes> h = hash();
      if (!h.ok()) return h.status();
      if (*h == row.content_hash) {
        return ctx_.store->GetMessage(row.id, Role::kTarget,
                                      store::MessageKind::kTargetComplete);
      }
      return Refuse(StatusCode::kFailedPrecondition, reason::kNonceUsed,
                    "nonce " + row.id + " was used by other content");
    }
    case MigrationState::kAborted:
      return Refuse(StatusCode::kFailedPrecondition, reason::kMigrationAborted,
                    "migration " + row.id + " was aborted by its source");
    case MigrationState::kExpired:
      return Refuse(StatusCode::kFailedPrecondition, reason::kNonceExpired,
                    "nonce " + row.id + " expired");
    default:
      return std::nullopt;
  }
}

Result<Bytes> TargetService::ContentLocked(const MigrationContentView& content,
                                           ContentBody& body,
                                           const store::MigrationRecord& row) {
  const uint16_t suite = row.ciphersuite;
  if (auto settled = SettledAnswer(
          row, [&]() -> Result<Bytes> { return ContentHash(suite, body); })) {
    return *std::move(settled);
  }
  MIMI_ASSIGN_OR_RETURN(store::IssuedNonce nonce, ctx_.store->GetNonce(row.id));
  if (ctx_.clock->NowMillis() >= nonce.expires_at) {
    return Refuse(StatusCode::kFailedPrecondition, reason::kNonceExpired,
                  "nonce " + row.id + " expired");
  }
  MIMI_ASSIGN_OR_RETURN(Bytes embedded, Encode(content.migration_response));
  MIMI_ASSIGN_OR_RETURN(Bytes issued,
                        ctx_.store->GetMessage(row.id, Role::kTarget,
                                               store::MessageKind::kResponse));
  if (embedded != issued) {
    return Refuse(StatusCode::kInvalidArgument, reason::kResponseMismatch,
                  "the MigrationResponse is not the one this DS issued");
  }
  {
    // The signature covers SignContent(label, ToBeSigned): its header goes
    // in front of the body, and ToBeSigned is the body's prefix.
    MIMI_ASSIGN_OR_RETURN(
        Bytes header, crypto::SignContentHeader(
                          SignatureLabel<MigrationContent>(), content.tbs.size()));
    MIMI_ASSIGN_OR_RETURN(ByteSpan sign_content,
                          body.PrefixWithHeader(header, content.tbs.size()));
    MIMI_RETURN_IF_ERROR(
        ctx_.resolver->VerifyMessageSignContent<MigrationContent>(
            row.source_domain, suite, sign_content, content.signature));
  }
  {
    MIMI_ASSIGN_OR_RETURN(GroupStateView state,
                          DecodeGroupStateView(content.group_state));
    if (!std::ranges::equal(state.group_id, row.group_id) ||
        state.epoch != row.epoch || state.cipher_suite != suite) {
      return Refuse(StatusCode::kInvalidArgument, reason::kGroupStateMismatch,
                    "the group state is not of the requested group, epoch and "
                    "ciphersuite");
    }
  }
  MIMI_ASSIGN_OR_RETURN(Bytes hash, ContentHash(suite, body));

  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.before_import"));
  if (ctx_.joined_ds != nullptr) {
    TargetMigrationComplete complete{hash, {}};
    MIMI_ASSIGN_OR_RETURN(Bytes complete_bytes,
                          SignAndEncode(ctx_, suite, &complete));
    return ImportJoined(row, body, content.group_state, std::move(hash),
                        std::move(complete_bytes));
  }
  MIMI_RETURN_IF_ERROR(ctx_.ds->ImportGroupState(content.group_state, row.id));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.after_import"));

  TargetMigrationComplete complete{hash, {}};
  MIMI_ASSIGN_OR_RETURN(Bytes complete_bytes, SignAndEncode(ctx_, suite, &complete));
  store::TransitionData data;
  // The views into the body are not used past this point.
  data.content = std::move(body).TakeBytes();
  data.content_hash = hash;
  data.target_complete = complete_bytes;
  data.detail = "imported group from " + row.source_domain;
  auto outcome = ctx_.store->Transition(row.id, Role::kTarget,
                                        MigrationState::kRequested,
                                        MigrationState::kImported, data);
  MIMI_RETURN_IF_ERROR(outcome.status());
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.after_persist_imported"));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.before_reply_complete"));
  return complete_bytes;
}

Result<Bytes> TargetService::ImportJoined(const store::MigrationRecord& row,
                                          ContentBody& body,
                                          ByteSpan group_state, Bytes hash,
                                          Bytes complete_bytes) {
  // The import reads the state from the bytes the transition stores, which
  // taking them out of the body moves: the state's place in them is its
  // place in body.bytes(), which they are.
  const size_t state_at =
      static_cast<size_t>(group_state.data() - body.bytes().data());
  const size_t state_size = group_state.size();
  store::TransitionData data;
  data.content = std::move(body).TakeBytes();
  data.content_hash = hash;
  data.target_complete = complete_bytes;
  data.detail = "imported group from " + row.source_domain;
  MIMI_ASSIGN_OR_RETURN(
      store::JoinedWrite import,
      ctx_.joined_ds->JoinImportGroupState(
          ByteSpan(*data.content).subspan(state_at, state_size), row.id));
  const store::Store::Move move{MigrationState::kRequested,
                                MigrationState::kImported, &data, &import};
  auto outcome = ctx_.store->TransitionSteps(row.id, Role::kTarget, {&move, 1});
  if (!outcome.ok() &&
      outcome.status().code() == StatusCode::kFailedPrecondition) {
    // Another delivery of this content, the source's abort or the expiry
    // moved the row on first (nothing of this attempt was stored).
    MIMI_ASSIGN_OR_RETURN(store::MigrationRecord now,
                          ctx_.store->Get(row.id, Role::kTarget));
    if (auto settled =
            SettledAnswer(now, [&]() -> Result<Bytes> { return hash; })) {
      return *std::move(settled);
    }
  }
  MIMI_RETURN_IF_ERROR(outcome.status());
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.after_import"));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.after_persist_imported"));
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.before_reply_complete"));
  return complete_bytes;
}

Result<AbortAnswer> TargetService::HandleAbort(ByteSpan body) {
  MIMI_ASSIGN_OR_RETURN(MigrationAbort abort, Decode<MigrationAbort>(body));
  const std::string id = ToHex(abort.nonce);
  auto found = ctx_.store->Get(id, Role::kTarget);
  if (found.status().code() == StatusCode::kNotFound) {
    return Refuse(StatusCode::kNotFound, reason::kUnknownNonce,
                  "this DS issued no nonce " + id);
  }
  MIMI_RETURN_IF_ERROR(found.status());
  MIMI_RETURN_IF_ERROR(ctx_.resolver->VerifyMessage(
      found->source_domain, found->ciphersuite, abort));
  MIMI_ASSIGN_OR_RETURN(LeasedRow leased, LeaseRow(ctx_, id, Role::kTarget));
  const store::MigrationRecord& row = leased.row;
  MigrationAbortAck ack{abort.nonce, {}};
  switch (row.state) {
    case MigrationState::kAborted: {
      MIMI_ASSIGN_OR_RETURN(
          Bytes stored, ctx_.store->GetMessage(id, Role::kTarget,
                                               store::MessageKind::kAbortAck));
      return AbortAnswer{true, std::move(stored)};
    }
    case MigrationState::kImported: {
      MIMI_ASSIGN_OR_RETURN(
          Bytes stored,
          ctx_.store->GetMessage(id, Role::kTarget,
                                 store::MessageKind::kTargetComplete));
      return AbortAnswer{false, std::move(stored)};
    }
    case MigrationState::kExpired: {
      // The nonce can no longer import anything; say so, signed.
      MIMI_ASSIGN_OR_RETURN(Bytes ack_bytes,
                            SignAndEncode(ctx_, row.ciphersuite, &ack));
      return AbortAnswer{true, ack_bytes};
    }
    default:
      break;
  }
  // A crash between import and record leaves the group here unrecorded: the
  // source must resend its content so that this DS can answer for it.
  auto held = ctx_.ds->LookupGroup(row.group_id);
  if (held.ok() && held->migration_id == id) {
    return Refuse(StatusCode::kFailedPrecondition, reason::kContentPending,
                  "the group was imported under this nonce; resend the content");
  }
  MIMI_ASSIGN_OR_RETURN(Bytes ack_bytes, SignAndEncode(ctx_, row.ciphersuite, &ack));
  store::TransitionData data;
  data.abort_message.emplace(body.begin(), body.end());
  data.abort_ack = ack_bytes;
  data.detail = "aborted by " + row.source_domain;
  MIMI_RETURN_IF_ERROR(ctx_.store
                           ->Transition(id, Role::kTarget, MigrationState::kRequested,
                                        MigrationState::kAborted, data)
                           .status());
  MIMI_RETURN_IF_ERROR(failpoint::Hit("target.after_persist_abort"));
  return AbortAnswer{true, ack_bytes};
}

Status TargetService::ExpireIfDue(const store::MigrationRecord& candidate) {
  if (candidate.state != MigrationState::kRequested) return Status::Ok();
  MIMI_ASSIGN_OR_RETURN(store::IssuedNonce nonce,
                        ctx_.store->GetNonce(candidate.id));
  if (ctx_.clock->NowMillis() < nonce.expires_at) return Status::Ok();
  MIMI_ASSIGN_OR_RETURN(LeasedRow leased,
                        LeaseRow(ctx_, candidate.id, Role::kTarget));
  const store::MigrationRecord& row = leased.row;
  if (row.state != MigrationState::kRequested) return Status::Ok();
  auto held = ctx_.ds->LookupGroup(row.group_id);
  if (held.ok() && held->migration_id == row.id) {
    return Refuse(StatusCode::kFailedPrecondition, reason::kContentPending,
                  "group imported but not recorded; waiting for the source to "
                  "resend its content");
  }
  store::TransitionData data;
  data.detail = "nonce expired unused";
  return ctx_.store
      ->Transition(row.id, Role::kTarget, MigrationState::kRequested,
                   MigrationState::kExpired, data)
      .status();
}

}  // namespace mimi::protocol
