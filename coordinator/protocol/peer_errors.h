// How the source reads the answers it gets: a peer DS's refusal as a Status
// (the HTTP status picks the code, the JSON body's `error` is the reason;
// docs/protocol.md §3.6), and which refusals are final, so that the
// migration is aborted instead of retried.
//
// Pure functions; thread-safe.
#ifndef MIMI_PROTOCOL_PEER_ERRORS_H_
#define MIMI_PROTOCOL_PEER_ERRORS_H_

#include <string>

#include "mimi_portability/status.h"
#include "protocol/peer_transport.h"

namespace mimi::protocol {

// The peer's non-200 answer as a Status naming the peer.
Status PeerError(const std::string& peer, const PeerResponse& r);

// Whether the target's refusal means it will never import under this nonce.
// A bad signature may be our rotated key not yet fetched there: retry.
bool IsFinalRefusal(const Status& s);

// Whether the DS's refusal to freeze the group is for good (a commit won
// the race for this epoch, the group is gone or frozen for another
// migration), so the migration gives its nonce back instead of retrying.
bool IsFinalFreezeRefusal(const Status& s);

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_PEER_ERRORS_H_
