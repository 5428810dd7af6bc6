// The instance id a daemon puts on the leases it takes ("host:pid:random"),
// so that two processes sharing a database never mistake each other's lease
// for their own, even when a pid is reused on another host or after a
// restart. The random part must really be random: a failing random source is
// an error, never an id with a predictable suffix.
//
// Pure function of its inputs (host name, pid, the random source); safe from
// any thread.
#ifndef MIMI_DAEMON_INSTANCE_ID_H_
#define MIMI_DAEMON_INSTANCE_ID_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "mimi_portability/status.h"

namespace mimi::daemon {

using RandomSource = std::function<Status(std::span<uint8_t> out)>;

// "<hostname>:<pid>:<12 hex digits>" from 6 bytes of `random` (by default
// crypto::RandomBytes); the source's error, with what it was for, when it
// fails.
Result<std::string> MakeInstanceId(const RandomSource& random = nullptr);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_INSTANCE_ID_H_
