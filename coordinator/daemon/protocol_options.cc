#include "daemon/protocol_options.h"

namespace mimi::daemon {

Result<protocol::SourcePolicy> ParseSourcePolicy(std::string_view text) {
  if (text == "member") return protocol::SourcePolicy::kMember;
  return InvalidArgumentError("config: policy.source: must be \"member\"");
}

Result<protocol::TargetPolicy> ParseTargetPolicy(std::string_view text) {
  if (text == "client-token") return protocol::TargetPolicy::kClientToken;
  if (text == "any") return protocol::TargetPolicy::kAny;
  return InvalidArgumentError(
      "config: policy.target: must be \"client-token\" or \"any\"");
}

Result<protocol::ProtocolOptions> ProtocolOptionsFromConfig(
    const Config& config) {
  protocol::ProtocolOptions o;
  MIMI_ASSIGN_OR_RETURN(o.source_policy,
                        ParseSourcePolicy(config.policy.source_policy));
  MIMI_ASSIGN_OR_RETURN(o.target_policy,
                        ParseTargetPolicy(config.policy.target_policy));
  o.allow_peers = config.policy.allow_peers;
  o.deny_peers = config.policy.deny_peers;
  o.group_cooldown_seconds = config.policy.group_cooldown_seconds;
  o.response_ttl_seconds = config.policy.response_ttl_seconds;
  o.ciphersuites = config.ciphersuites;
  const RecoveryConfig& r = config.recovery;
  o.recovery.scan_interval_ms = r.scan_interval_ms;
  o.recovery.backoff.initial_ms = r.backoff_initial_ms;
  o.recovery.backoff.max_ms = r.backoff_max_ms;
  o.recovery.max_attempts = r.max_attempts;
  o.recovery.lease_ms = r.lease_ms;
  o.recovery.auto_abort_after_seconds = r.auto_abort_after_seconds;
  o.recovery.heartbeat_ms = r.heartbeat_ms;
  o.recovery.heartbeat_timeout_ms = r.heartbeat_timeout_ms;
  o.recovery.reclaim_dead_leases = r.reclaim_dead_leases;
  return o;
}

}  // namespace mimi::daemon
