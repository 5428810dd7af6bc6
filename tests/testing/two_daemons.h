// TwoDaemons: a source DS (source.test) and a target DS (target.test) as two
// in-process mimi-portd Daemons over HTTPS with certificates from a test CA,
// each mapping the other's domain to its loopback port, plus the client-side
// helpers a protocol test needs (HTTPS clients trusting the CA, a client
// token at the target, read access to both databases).
//
// One test owns one instance; it removes everything it made.
#ifndef MIMI_TESTING_TWO_DAEMONS_H_
#define MIMI_TESTING_TWO_DAEMONS_H_

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "embedded_ds/embedded_ds.h"
#include "mimi_portability/clock.h"
#include "store/sqlite_store.h"
#include "testing/temp_dir.h"
#include "testing/test_ca.h"

namespace mimi::testing {

class TwoDaemons {
 public:
  // `tweak` may adjust each config (domain tells which) before start.
  // The daemons read time through a SteadyWallClock over `clock` and
  // `monotonic` (daemon.h); without `monotonic`, one that stands still, so
  // that their time is exactly `clock`'s as long as it never steps back.
  explicit TwoDaemons(const Clock& clock,
                      std::function<void(daemon::Config&)> tweak = nullptr,
                      const Clock* monotonic = nullptr);
  ~TwoDaemons();

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  daemon::Config& source_config() { return source_config_; }
  daemon::Config& target_config() { return target_config_; }
  uint16_t source_port() const { return source_ports_.public_port; }
  uint16_t target_port() const { return target_ports_.public_port; }

  // HTTPS clients that verify the daemons' certificates.
  std::unique_ptr<httplib::Client> SourceClient() const;
  std::unique_ptr<httplib::Client> TargetClient() const;

  // The CA that signed both daemons' certificates (PEM file).
  const std::string& ca_file() const { return ca_file_; }

  // A client token issued by the target (policy "client-token").
  const std::string& client_token() const { return client_token_; }
  // A client token of the source, for POST /ds/v1/groups there.
  const std::string& source_client_token() const { return source_client_token_; }

  // Fresh connections to each daemon's database, for assertions.
  std::unique_ptr<store::SqliteStore> SourceStore() const;
  std::unique_ptr<store::SqliteStore> TargetStore() const;
  std::unique_ptr<embedded_ds::EmbeddedDs> SourceDs() const;
  std::unique_ptr<embedded_ds::EmbeddedDs> TargetDs() const;

  void StopSource();
  Status RestartSource();

 private:
  std::unique_ptr<httplib::Client> Client(uint16_t port) const;

  const Clock& clock_;
  const FakeClock still_monotonic_{0};
  const Clock* const monotonic_;
  TempDir dir_;
  bool ok_ = false;
  std::string error_;
  std::string ca_file_;
  daemon::Config source_config_;
  daemon::Config target_config_;
  std::unique_ptr<daemon::Daemon> source_;
  std::unique_ptr<daemon::Daemon> target_;
  daemon::DaemonPorts source_ports_;
  daemon::DaemonPorts target_ports_;
  std::string client_token_;
  std::string source_client_token_;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_TWO_DAEMONS_H_
