// ProtocolOptionsFromConfig: the one place where mimi-portd's config
// (daemon/config.h, docs/operations.md) becomes the protocol's own options
// (protocol/options.h), and the spelling of the protocol's policy enums in
// the config file, which config validation uses too, so that an unknown
// value is refused at config load.
//
// Pure functions; thread-safe.
#ifndef MIMI_DAEMON_PROTOCOL_OPTIONS_H_
#define MIMI_DAEMON_PROTOCOL_OPTIONS_H_

#include <string_view>

#include "daemon/config.h"
#include "mimi_portability/status.h"
#include "protocol/options.h"

namespace mimi::daemon {

// policy.source: "member". kInvalidArgument naming the setting otherwise.
Result<protocol::SourcePolicy> ParseSourcePolicy(std::string_view text);
// policy.target: "client-token" or "any". kInvalidArgument naming the
// setting otherwise.
Result<protocol::TargetPolicy> ParseTargetPolicy(std::string_view text);

// Every setting the protocol reads. Fails only for a config that did not
// go through validation (an unknown policy), with the validation's error.
Result<protocol::ProtocolOptions> ProtocolOptionsFromConfig(
    const Config& config);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_PROTOCOL_OPTIONS_H_
