#include "protocol/init_admission.h"

#include <algorithm>

#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "crypto/public_key.h"
#include "keys/peer_address.h"
#include "mls/mls_message.h"
#include "protocol/policy.h"
#include "protocol/refusal.h"

namespace mimi::protocol {

Result<AdmittedInit> AdmitInit(const ProtocolContext& ctx,
                               const MigrationInitRequest& init_request) {
  const MigrationResponse& response =
      init_request.migration_init.migration_response;
  const MigrationRequest& request = response.migration_request;
  const std::string source = ToString(request.source_domain_name);
  const std::string target = ToString(request.target_domain_name);
  if (source != ctx.domain) {
    return Refuse(StatusCode::kInvalidArgument, reason::kWrongSource,
                  "the MigrationRequest names source " + source + ", this is " +
                      ctx.domain);
  }
  if (Status s = keys::ValidateDomainName(target);
      !s.ok() || target == ctx.domain) {
    return Refuse(StatusCode::kInvalidArgument, reason::kNotTarget,
                  "the target must be another DS's domain name");
  }
  MIMI_RETURN_IF_ERROR(CheckPeerAllowed(*ctx.options, target));
  MIMI_ASSIGN_OR_RETURN(GroupSummary group,
                        ctx.ds->LookupGroup(request.group_id));
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
  const auto& suites = ctx.options->ciphersuites;
  if (!cs.ok() ||
      std::find(suites.begin(), suites.end(), suite) == suites.end()) {
    return Refuse(
        StatusCode::kUnsupported, reason::kUnsupportedCipherSuite,
        "this DS does not sign with ciphersuite " + std::to_string(suite));
  }
  // The client: a member, proven by its leaf's signature key.
  MIMI_ASSIGN_OR_RETURN(Bytes leaf_key,
                        ctx.ds->MemberSignatureKey(
                            request.group_id, init_request.sender_leaf_index));
  auto client_key = crypto::PublicKey::Parse(cs->signature_scheme, leaf_key);
  if (!client_key.ok()) {
    return Refuse(StatusCode::kInvalidArgument, reason::kUnknownLeaf,
                  "the leaf's signature key is unusable: " +
                      client_key.status().detail());
  }
  MIMI_RETURN_IF_ERROR(
      crypto::VerifyMessage(*client_key, init_request.migration_init));
  // The target's promise.
  MIMI_RETURN_IF_ERROR(ctx.resolver->VerifyMessage(target, suite, response));
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
  MIMI_RETURN_IF_ERROR(CheckCooldown(*ctx.options, *ctx.store, request.group_id,
                                     ctx.clock->NowMillis()));
  return AdmittedInit{source, target, suite};
}

}  // namespace mimi::protocol
