// ProtocolOptions: the settings the source and target roles and the
// recovery loop read, as the protocol's own plain values (enums, not the
// config file's strings). The daemon fills them from its config
// (daemon/protocol_options.h); tests set them directly. The meaning of each
// setting is in docs/operations.md under the config key named beside it.
//
// A plain struct; immutable once the services run, so share it freely
// between threads.
#ifndef MIMI_PROTOCOL_OPTIONS_H_
#define MIMI_PROTOCOL_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/backoff.h"

namespace mimi::protocol {

// Who may migrate a group away (policy.source): a member whose leaf signs
// the MigrationInit, the draft's suggested default (docs/protocol.md §5).
enum class SourcePolicy { kMember };

// Who may import a group here (policy.target; docs/protocol.md §5).
enum class TargetPolicy {
  kClientToken,  // "client-token": clients holding a token this DS issued
  kAny,          // "any": every client
};

struct RecoveryOptions {
  int64_t scan_interval_ms = 1000;  // recovery.scan_interval_ms
  // recovery.backoff_initial_ms / recovery.backoff_max_ms.
  BackoffOptions backoff;
  int max_attempts = 50;       // recovery.max_attempts: then flagged stalled
  int64_t lease_ms = 120'000;  // recovery.lease_ms
  // recovery.heartbeat_ms: how often the lease holder says it is alive;
  // recovery.heartbeat_timeout_ms: how long after its last heartbeat a
  // holder counts as dead and its leases are taken over.
  int64_t heartbeat_ms = 2000;
  int64_t heartbeat_timeout_ms = 6000;
  // recovery.reclaim_dead_leases: take a dead holder's unexpired leases over
  // at each scan; false leaves them to lapse at lease_ms (the behaviour
  // before lease holders existed).
  bool reclaim_dead_leases = true;
  // recovery.auto_abort_after_seconds; 0 = never abort automatically.
  int64_t auto_abort_after_seconds = 0;
};

struct ProtocolOptions {
  SourcePolicy source_policy = SourcePolicy::kMember;
  TargetPolicy target_policy = TargetPolicy::kClientToken;
  // policy.allow_peers / policy.deny_peers: an empty allow list allows all
  // peers not denied.
  std::vector<std::string> allow_peers;
  std::vector<std::string> deny_peers;
  int64_t group_cooldown_seconds = 0;  // policy.group_cooldown_seconds
  int64_t response_ttl_seconds = 600;  // policy.response_ttl_seconds
  // ciphersuites: the suites this DS signs with and serves.
  std::vector<uint16_t> ciphersuites{1, 2, 3};
  RecoveryOptions recovery;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_OPTIONS_H_
