// Where a peer Delivery Service is reached: docs/protocol.md §2.5 maps a domain to
// https://<domain> by default; configuration (and every test) may map it to
// any host:port instead. A PeerLocator is that mapping as a function, so the
// resolver and later the HTTP client take it as a parameter.
//
// ValidateDomainName (mimi_portability/domain_name.h) guards everything that
// puts a domain from the wire into a host name or URL. Pure functions;
// thread-safe.
#ifndef MIMI_KEYS_PEER_ADDRESS_H_
#define MIMI_KEYS_PEER_ADDRESS_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "mimi_portability/domain_name.h"
#include "mimi_portability/status.h"

namespace mimi::keys {

struct PeerAddress {
  std::string host;
  int port = 443;

  bool operator==(const PeerAddress&) const = default;
};

using PeerLocator = std::function<Result<PeerAddress>(std::string_view domain)>;

// The one domain check, shared with the codec and the configuration.
using ::mimi::ValidateDomainName;

// https://<domain>: the domain itself, port 443.
PeerLocator DefaultPeerLocator();
// The explicit map first (keys are lowercase domains), the default otherwise.
PeerLocator MappedPeerLocator(std::map<std::string, PeerAddress> map);

}  // namespace mimi::keys

#endif  // MIMI_KEYS_PEER_ADDRESS_H_
