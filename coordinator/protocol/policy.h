// Policy checks shared by both roles: which peer DSs we deal with, and the
// per-group cooldown between migrations (docs/protocol.md §5).
// Pure over the options and the store; thread-safe.
#ifndef MIMI_PROTOCOL_POLICY_H_
#define MIMI_PROTOCOL_POLICY_H_

#include <algorithm>
#include <string>

#include "protocol/options.h"
#include "protocol/refusal.h"
#include "store/store.h"

namespace mimi::protocol {

inline Status CheckPeerAllowed(const ProtocolOptions& options,
                               const std::string& peer) {
  const ProtocolOptions& p = options;
  auto listed = [&peer](const std::vector<std::string>& list) {
    return std::find(list.begin(), list.end(), peer) != list.end();
  };
  if (listed(p.deny_peers) || (!p.allow_peers.empty() && !listed(p.allow_peers))) {
    return Refuse(StatusCode::kPermissionDenied, reason::kPeerDenied,
                  "this DS does not migrate groups to or from " + peer);
  }
  return Status::Ok();
}

// Refuses a new migration of `group_id` while an earlier one (either role)
// changed state less than the configured cooldown ago.
inline Status CheckCooldown(const ProtocolOptions& options, store::Store& store,
                            ByteSpan group_id, UnixMillis now) {
  const int64_t cooldown_ms = options.group_cooldown_seconds * 1000;
  if (cooldown_ms <= 0) return Status::Ok();
  MIMI_ASSIGN_OR_RETURN(auto rows, store.ListByGroup(group_id));
  for (const auto& r : rows) {
    if (now - r.updated_at < cooldown_ms) {
      return Refuse(StatusCode::kFailedPrecondition, reason::kCooldown,
                    "group migrated " + std::to_string((now - r.updated_at) / 1000) +
                        "s ago; the cooldown is " +
                        std::to_string(options.group_cooldown_seconds) + "s");
    }
  }
  return Status::Ok();
}

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_POLICY_H_
