// Daemon: mimi-portd assembled from its parts — store, embedded DS, keys,
// peer resolver and transport, the source and target services, the recovery
// loop, and the public and admin listeners — in the order that makes a
// half-started daemon harmless: everything durable is opened before any
// port is bound, and Stop() undoes it in reverse (listeners drain first).
//
// Usable in-process by tests as well as by main(). Start/Stop from one
// thread; the parts are thread-safe.
#ifndef MIMI_DAEMON_DAEMON_H_
#define MIMI_DAEMON_DAEMON_H_

#include <memory>
#include <string>

#include "daemon/config.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"

namespace mimi::daemon {

struct DaemonPorts {
  uint16_t public_port = 0;
  uint16_t admin_port = 0;
};

class Daemon {
 public:
  // Opens everything; binds nothing yet. The daemon reads time through a
  // SteadyWallClock over `wall_clock` and `monotonic` (MonotonicClock when
  // null; tests pass fakes of both to step the wall clock).
  static Result<std::unique_ptr<Daemon>> Create(
      const Config& config, const Clock& wall_clock,
      const Clock* monotonic = nullptr);
  ~Daemon();

  // Binds the listeners and starts the recovery loop.
  Result<DaemonPorts> Start();
  // Stops accepting, drains in-flight requests and queued work, closes.
  void Stop();

  // <data_dir>/mimi.db
  static std::string DatabasePath(const Config& config);

 private:
  struct Parts;
  explicit Daemon(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_DAEMON_H_
