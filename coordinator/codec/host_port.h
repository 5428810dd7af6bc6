// HostPort: where a socket connects or listens, and the one parser of its
// text form, "host[:port]" with an IPv6 address in brackets ("[::1]:8443").
// The daemon's listen and peer settings, the DS hook base URL's authority
// and the peer locator's addresses all go through it, so that they accept
// and refuse the same spellings.
//
// The host is returned as written (no lowercasing, no name validation: a
// listen address and a peer host are checked by their users). Pure
// functions; thread-safe.
#ifndef MIMI_CODEC_HOST_PORT_H_
#define MIMI_CODEC_HOST_PORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mimi_portability/status.h"

namespace mimi::codec {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// "host", "host:port", "[v6]" or "[v6]:port"; without a port the result has
// `default_port`. The port is 1 to 5 decimal digits, at most 65535 (0 is
// accepted: "any free port" to a listener; a client refuses it itself). An
// unbracketed host with a second ':' is refused rather than guessed at (is
// "::1:80" port 80 of ::1, or the address ::1:80?). kInvalidArgument with a
// detail that quotes the text: "missing host in '...'", "bad port in '...'",
// "port out of range in '...'", "unterminated '[' in '...'", "IPv6 address
// needs [brackets] in '...'".
Result<HostPort> ParseHostPort(std::string_view text, uint16_t default_port);

}  // namespace mimi::codec

#endif  // MIMI_CODEC_HOST_PORT_H_
