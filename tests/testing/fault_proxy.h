// FaultProxy: a TCP proxy on a loopback port in front of one upstream port
// that injects network faults, so tests can put a bad network between two
// daemons (the source's [peers] entry for the target points at the proxy).
//
// It forwards bytes and knows nothing of TLS or HTTP, except that it tells
// a connection's first client flight (the TLS ClientHello) from what the
// client sends after the server first answered (its Finished and the
// request): the cut faults act on the latter, so they hit the request and
// its answer rather than the handshake.
//
//   kPass         forward
//   kLatency      forward, sleeping `param` ms before every chunk each way
//   kReset        accept, then reset (RST) at once
//   kBlackHole    accept, read and discard, never answer (until healed)
//   kCutRequest   forward the handshake, then `param` bytes of the request,
//                 then reset both ends
//   kCutResponse  forward the request whole, swallow the answer, and reset
//                 both ends `param` ms later (the upstream acted; the client
//                 never hears of it)
//   kDown         not listening: connections are refused
//
// With a fallback upstream it is also the tests' load balancer in front of
// several instances of one domain: a connection the upstream refuses (the
// instance is dead) goes to the fallback.
//
// Set() applies to new connections and resets every open one (otherwise a
// pooled keep-alive connection would carry on past the fault). Thread-safe;
// the destructor stops the listener and joins every connection thread.
#ifndef MIMI_TESTING_FAULT_PROXY_H_
#define MIMI_TESTING_FAULT_PROXY_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mimi_portability/status.h"

namespace mimi::testing {

enum class FaultMode {
  kPass,
  kLatency,
  kReset,
  kBlackHole,
  kCutRequest,
  kCutResponse,
  kDown,
};
const char* FaultModeName(FaultMode mode);

class FaultProxy {
 public:
  // Listens on 127.0.0.1:`listen_port` (0: any free port), in kPass;
  // `fallback_port` (0: none) takes the connections `upstream_port` refuses.
  static Result<std::unique_ptr<FaultProxy>> Start(uint16_t upstream_port,
                                                   uint16_t listen_port = 0,
                                                   uint16_t fallback_port = 0);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }
  Status Set(FaultMode mode, int param = 0);
  FaultMode mode() const;

  // Connections accepted, and connections the current fault acted on.
  int accepted() const { return accepted_.load(); }
  int faulted() const { return faulted_.load(); }

 private:
  struct Conn;
  FaultProxy(uint16_t upstream_port, uint16_t port, uint16_t fallback_port)
      : upstream_port_(upstream_port),
        fallback_port_(fallback_port),
        port_(port) {}
  Status Listen();
  void AcceptLoop();
  void Serve(std::shared_ptr<Conn> conn);
  void DropAllLocked();
  void ReapFinishedLocked();

  const uint16_t upstream_port_;
  const uint16_t fallback_port_;
  uint16_t port_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> faulted_{0};

  mutable std::mutex mu_;
  FaultMode mode_ = FaultMode::kPass;
  int param_ = 0;
  int listen_fd_ = -1;
  std::string last_error_;  // of the last failed Listen()
  std::thread acceptor_;
  std::list<std::shared_ptr<Conn>> conns_;
  std::list<std::thread> threads_;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_FAULT_PROXY_H_
