#include "codec/host_port.h"

namespace mimi::codec {
namespace {

Status Bad(std::string_view what, std::string_view text) {
  return InvalidArgumentError(std::string(what) + " in '" + std::string(text) +
                              "'");
}

}  // namespace

Result<HostPort> ParseHostPort(std::string_view text, uint16_t default_port) {
  std::string_view host;
  std::string_view rest;  // "" or ":port"
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad("unterminated '['", text);
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
  } else {
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      rest = text.substr(colon);
      if (rest.find(':', 1) != std::string_view::npos) {
        return Bad("IPv6 address needs [brackets]", text);
      }
    }
  }
  if (host.empty()) return Bad("missing host", text);
  HostPort out{std::string(host), default_port};
  if (rest.empty()) return out;
  if (rest.front() != ':' || rest.size() < 2) return Bad("bad port", text);
  const std::string_view digits = rest.substr(1);
  uint32_t v = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return Bad("bad port", text);
    // Six digits already exceed 65535; stopping here keeps v from overflowing.
    if (v > 65535) break;
    v = v * 10 + static_cast<uint32_t>(ch - '0');
  }
  if (v > 65535) return Bad("port out of range", text);
  out.port = static_cast<uint16_t>(v);
  return out;
}

}  // namespace mimi::codec
