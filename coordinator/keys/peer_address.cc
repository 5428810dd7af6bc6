#include "keys/peer_address.h"

#include "mimi_portability/domain_name.h"

namespace mimi::keys {

PeerLocator DefaultPeerLocator() {
  return [](std::string_view domain) -> Result<PeerAddress> {
    MIMI_RETURN_IF_ERROR(ValidateDomainName(domain));
    return PeerAddress{LowercaseDomain(domain), 443};
  };
}

PeerLocator MappedPeerLocator(std::map<std::string, PeerAddress> map) {
  return
      [map = std::move(map)](std::string_view domain) -> Result<PeerAddress> {
        MIMI_RETURN_IF_ERROR(ValidateDomainName(domain));
        auto it = map.find(LowercaseDomain(domain));
        if (it != map.end()) return it->second;
        return PeerAddress{LowercaseDomain(domain), 443};
      };
}

}  // namespace mimi::keys
