// PortdProcess and PortdPair: mimi-portd as a real child process, for tests
// that kill it (failpoint crashes, kill -9) and start it again on the same
// data directory and ports.
//
// PortdProcess spawns MIMI_BINARY_DIR/coordinator/mimi-portd with a config
// file and an optional MIMI_FAILPOINTS value, waits for the child's own
// <data_dir>/portd.json (a stale one from a killed run is removed first and
// ignored unless it names the new pid), reports how the child ended (a
// failpoint crash exits failpoint::kCrashExitCode = 86), and kills with
// SIGKILL. The child gets PR_SET_PDEATHSIG=SIGKILL, so it dies with the
// thread that started it: call Start() from the test's main thread. stdout
// and stderr of every run are appended to <data_dir>/../
// <name>.log so a failing test can show what the daemon said.
//
// PortdPair: source.test and target.test as two such processes speaking
// verified HTTPS with certificates from a TestCa, each mapping the other's
// domain to a fixed loopback port (chosen once with StableLoopbackPort(), so
// restarts keep them), with short recovery timings (scan 50 ms, back-off
// 20..200 ms, lease 1000 ms, keep-alive 1 s). The source's route to the
// target can be pointed elsewhere (a FaultProxy) before Start().
//
// Creating a pair ignores SIGPIPE in the test process: a client writing to
// a daemon that just died must see an error, not die itself.
//
// Every child is killed and reaped by the destructors; the pair's TempDir
// removes everything it made. Not thread-safe: drive one from one thread
// (several client threads may use the ports and read the databases).
#ifndef MIMI_TESTING_PORTD_PROCESS_H_
#define MIMI_TESTING_PORTD_PROCESS_H_

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "mimi_portability/status.h"
#include "testing/temp_dir.h"

namespace mimi::testing {

// How a child ended: exit code, or the signal that killed it.
struct ExitInfo {
  bool signaled = false;
  int code = 0;  // exit code, or signal number when signaled
  std::string ToString() const;
  bool IsFailpointCrash() const;
};

class PortdProcess {
 public:
  PortdProcess(std::string name, std::filesystem::path config_file,
               std::filesystem::path data_dir);
  ~PortdProcess();
  PortdProcess(const PortdProcess&) = delete;
  PortdProcess& operator=(const PortdProcess&) = delete;

  // Spawns the daemon (MIMI_FAILPOINTS=failpoints when not empty) and waits
  // up to `timeout` for its portd.json. Fails if the child exits first.
  Status Start(const std::string& failpoints = "",
               std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // The child's end if it has ended (reaps it); nullopt while it runs.
  std::optional<ExitInfo> Poll();
  // Waits up to `timeout` for the child to end.
  std::optional<ExitInfo> WaitExit(std::chrono::milliseconds timeout);
  // SIGKILL and reap; no-op when not running.
  void Kill();
  // SIGTERM, then SIGKILL if it has not ended within `grace`.
  std::optional<ExitInfo> Terminate(
      std::chrono::milliseconds grace = std::chrono::seconds(10));

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int starts() const { return starts_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::filesystem::path log_file() const;
  // The last `bytes` of the log, for failure messages.
  std::string LogTail(size_t bytes = 4000) const;
  // Every thread's backtrace of the running child (gdb attached in batch
  // mode, 30 s at most), for a failure where a daemon went silent: a hang
  // that cannot be reproduced at will is diagnosed from this. Says why
  // not when the child is not running or gdb is missing.
  std::string Stacks() const;

 private:
  const std::string name_;
  const std::filesystem::path config_file_;
  const std::filesystem::path data_dir_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

enum class Side { kSource, kTarget };
const char* SideName(Side side);

struct PortdPairOptions {
  int64_t lease_ms = 1000;
  int64_t response_ttl_seconds = 600;
  int64_t source_auto_abort_after_seconds = 0;
  std::string log_level = "info";
  // ds.join_store_transactions of both: false runs each DS write in a
  // transaction of its own after the store's (the crash windows between
  // them are what the crash matrix then covers).
  bool join_store_transactions = true;
};

class PortdPair {
 public:
  // Makes the CA, certificates, ports, data dirs, configs and a client
  // token at the target; starts nothing.
  static Result<std::unique_ptr<PortdPair>> Create(
      PortdPairOptions options = {});
  ~PortdPair();

  // Where the source reaches target.test (default: the target's port).
  // Before Start() only.
  void set_source_route_to_target(uint16_t port) {
    source_to_target_port_ = port;
  }

  // Starts both (target first), each with its failpoint spec.
  Status Start(const std::string& source_failpoints = "",
               const std::string& target_failpoints = "");

  PortdProcess& process(Side side) {
    return side == Side::kSource ? *source_ : *target_;
  }
  PortdProcess& source() { return *source_; }
  PortdProcess& target() { return *target_; }
  uint16_t source_port() const { return source_port_; }
  uint16_t target_port() const { return target_port_; }
  const std::string& client_token() const { return client_token_; }
  // The source's client token, for POST /ds/v1/groups there.
  const std::string& source_client_token() const { return source_client_token_; }
  const std::string& ca_file() const { return ca_file_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  // <data_dir>/mimi.db of each side.
  std::string DatabasePath(Side side) const;
  // A verifying HTTPS client for each daemon (short timeouts: a client of a
  // daemon that may die any moment must not hang).
  std::unique_ptr<httplib::Client> Client(Side side) const;

  // Every log line of both daemons' runs, for failure messages.
  std::string Logs() const;
  // Both running daemons' thread backtraces (PortdProcess::Stacks).
  std::string Stacks() const;

 private:
  PortdPair() = default;
  Status WriteConfig(Side side) const;

  TempDir dir_;
  PortdPairOptions options_;
  std::string ca_file_;
  uint16_t source_port_ = 0;
  uint16_t target_port_ = 0;
  uint16_t source_to_target_port_ = 0;
  std::string client_token_;
  std::string source_client_token_;
  // domain -> (certificate, key) files
  std::map<std::string, std::pair<std::filesystem::path, std::filesystem::path>>
      leaf_;
  std::unique_ptr<PortdProcess> source_;
  std::unique_ptr<PortdProcess> target_;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_PORTD_PROCESS_H_
