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

Status ValidateDomainName(std::string_view domain) {
  auto bad = [&](const char* why) {
    return InvalidArgumentError(
        "domain name \"" + std::string(domain.substr(0, 64)) + "\": " + why);
  };
  if (domain.empty() || domain.size() > 253) return bad("length not 1-253");
  size_t label_len = 0;
  char prev = '.';
  for (char c : domain) {
    if (c == '.') {
      if (label_len == 0) return bad("empty label");
      if (prev == '-') return bad("label ends with a hyphen");
      label_len = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      if (c == '-' && label_len == 0) return bad("label starts with a hyphen");
      if (++label_len > 63) return bad("label longer than 63");
    } else {
      return bad("character outside letters, digits, '-' and '.'");
    }
    prev = c;
  }
  if (label_len == 0) return bad("empty label");
  if (prev == '-') return bad("label ends with a hyphen");
  return Status::Ok();
}

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
