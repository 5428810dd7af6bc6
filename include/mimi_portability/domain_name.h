// The one check for DNS domain names, wherever they come from: the wire
// (every domain field of the protocol messages is checked as it is decoded),
// the configuration, and a peer name about to become a host name or URL.
// A valid name is ASCII letters, digits and hyphens in dot-separated labels
// of 1-63 bytes with no leading or trailing hyphen, 253 bytes in all, no
// trailing dot. Pure functions; thread-safe.
#ifndef MIMI_PORTABILITY_DOMAIN_NAME_H_
#define MIMI_PORTABILITY_DOMAIN_NAME_H_

#include <string>
#include <string_view>

#include "mimi_portability/status.h"

namespace mimi {

// The stable reason of a refused domain name (docs/protocol.md §3.6).
inline constexpr std::string_view kInvalidDomainReason = "invalid-domain";

// OK, or kInvalidArgument with reason "invalid-domain" and a detail that
// starts with `what` (e.g. the field path "MigrationRequest.target_domain_name")
// and shows the name with any unprintable byte escaped.
Status ValidateDomainName(std::string_view domain,
                          std::string_view what = "domain name");

// DNS names compare without regard to ASCII case; this is the form they are
// stored, mapped and compared in.
std::string LowercaseDomain(std::string_view domain);

}  // namespace mimi

#endif  // MIMI_PORTABILITY_DOMAIN_NAME_H_
