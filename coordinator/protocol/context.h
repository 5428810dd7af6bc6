// ProtocolContext: everything the source and target roles share, wired once
// by the daemon (or a test). Holds references, owns nothing; the objects it
// points to are thread-safe and outlive the services using it.
#ifndef MIMI_PROTOCOL_CONTEXT_H_
#define MIMI_PROTOCOL_CONTEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "keys/ds_key_store.h"
#include "keys/peer_key_resolver.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/delivery_service.h"
#include "protocol/backoff.h"
#include "protocol/client_tokens.h"
#include "protocol/options.h"
#include "protocol/peer_transport.h"
#include "protocol/transfer_progress.h"
#include "store/joined_write.h"
#include "store/store.h"

namespace mimi::protocol {

class HeldLeases;

struct ProtocolContext {
  std::string domain;
  const ProtocolOptions* options = nullptr;  // policy, recovery, ciphersuites
  store::Store* store = nullptr;
  DeliveryService* ds = nullptr;
  // The same DS when its writes can join the store's transactions (the
  // embedded DS on the store's own database, store/joined_write.h): then
  // each protocol step is one transaction. Null for a DS elsewhere, whose
  // calls come after the store's write ("persist, then act").
  store::JoinableDs* joined_ds = nullptr;
  keys::DsKeyStore* keys = nullptr;
  keys::PeerKeyResolver* resolver = nullptr;
  PeerTransport* transport = nullptr;
  ClientTokens* client_tokens = nullptr;  // TargetPolicy::kClientToken
  const Clock* clock = nullptr;
  // When a failed step is tried again (the source driver and the recovery
  // loop's target rows); built from options->recovery.backoff.
  const Backoff* backoff = nullptr;
  // Content uploads in flight, for the admin API; may be null.
  TransferProgress* progress = nullptr;
  // This process's lease holder ("<instance_id>/<incarnation>",
  // store::LeaseHolder::holder_id); every lease it takes is owned by
  // "<lease_holder>#<n>" (docs/protocol.md §4 "Lease ownership").
  std::string lease_holder;
  // The leases this process's threads hold (protocol/held_leases.h), which
  // the recovery loop watches; may be null (tests that drive rows by hand).
  HeldLeases* held_leases = nullptr;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_CONTEXT_H_
