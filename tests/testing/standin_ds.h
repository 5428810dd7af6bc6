// StandinDs: runs tests/standin_ds/standin_ds.py — a stand-in for an
// operator's own Delivery Service, written in Python from the hook contract
// alone — as a child process on a loopback port, for tests of the HTTP hook
// adapter and, later, of whole migrations between an embedded and an
// external DS.
//
// Start() writes a fresh 0600 secret file and a database path into `dir`
// (usually a TempDir), spawns python3 and waits for the port it binds.
// Stop() terminates the child (SIGTERM, then SIGKILL) and reaps it;
// Restart() brings it back on the same port with the same database, which
// is how tests model "the DS was down". The destructor stops it, so no child
// outlives its test. The child's output goes to <dir>/standin.log.
//
// One owner; not synchronised.
#ifndef MIMI_TESTING_STANDIN_DS_H_
#define MIMI_TESTING_STANDIN_DS_H_

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "mimi_portability/status.h"

namespace mimi::testing {

struct StandinDsOptions {
  std::filesystem::path script;  // .../tests/standin_ds/standin_ds.py
  std::filesystem::path dir;     // database, secret, port file, log
  std::string name = "standin";  // file name prefix, so two can share a dir
  // Serve HTTPS with this certificate chain and key (PEM) when set.
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
};

class StandinDs {
 public:
  static Result<std::unique_ptr<StandinDs>> Start(StandinDsOptions options);
  ~StandinDs();
  StandinDs(const StandinDs&) = delete;
  StandinDs& operator=(const StandinDs&) = delete;

  void Stop();
  // Starts again on the same port with the same database and secret.
  Status Restart();

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  // "http://127.0.0.1:<port>" (https with TLS).
  std::string base_url() const;
  const std::filesystem::path& secret_file() const { return secret_file_; }
  const std::string& secret() const { return secret_; }
  std::filesystem::path log_file() const;

 private:
  explicit StandinDs(StandinDsOptions options) : options_(std::move(options)) {}
  Status Spawn(int port);

  StandinDsOptions options_;
  std::filesystem::path secret_file_;
  std::string secret_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_STANDIN_DS_H_
