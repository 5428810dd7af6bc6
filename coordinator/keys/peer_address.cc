#include "keys/peer_address.h"

#include <cctype>

namespace mimi::keys {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

PeerLocator DefaultPeerLocator() {
  return [](std::string_view domain) -> Result<PeerAddress> {
    MIMI_RETURN_IF_ERROR(ValidateDomainName(domain));
    return PeerAddress{Lower(domain), 443};
  };
}

PeerLocator MappedPeerLocator(std::map<std::string, PeerAddress> map) {
  return
      [map = std::move(map)](std::string_view domain) -> Result<PeerAddress> {
        MIMI_RETURN_IF_ERROR(ValidateDomainName(domain));
        auto it = map.find(Lower(domain));
        if (it != map.end()) return it->second;
        return PeerAddress{Lower(domain), 443};
      };
}

}  // namespace mimi::keys
