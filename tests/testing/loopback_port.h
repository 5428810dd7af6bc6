// Loopback ports for tests and benchmarks, the one place that picks them:
// UnusedLoopbackPort for "nothing listens here" and servers started right
// away, StableLoopbackPort for daemons and proxies that are stopped and
// started again on the same port.
//
// Stateless apart from StableLoopbackPort's random generator; call from one
// thread at a time.
#ifndef MIMI_TESTING_LOOPBACK_PORT_H_
#define MIMI_TESTING_LOOPBACK_PORT_H_

#include <cstdint>

namespace mimi::testing {

// A loopback port on which nothing listens (the kernel's pick for port 0,
// bound, then released), for "peer unreachable" cases. -1 on failure.
int UnusedLoopbackPort();

// A free loopback port below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), so that while the daemon or proxy that
// owns it is down no outgoing connection can take it as its local port (and
// no connection to it can connect to itself): a restart can always bind it
// again. 0 if none was found.
uint16_t StableLoopbackPort();

}  // namespace mimi::testing

#endif  // MIMI_TESTING_LOOPBACK_PORT_H_
