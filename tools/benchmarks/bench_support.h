// Support for the benchmarks that run real processes (mimi-bench-recovery,
// mimi-bench-cli, mimi-bench-large): where the built binaries are,
// mimi-portd as a child process with its own config and log, the set-up of
// two of them (source.test and target.test) speaking HTTPS with a test CA,
// their memory figures from /proc, timed runs of short-lived commands,
// percentiles, and the result table every scenario prints (figure beside
// its baseline, their ratio, the target and whether it was met, with the
// core count, because the machines these run on are shared and noisy).
//
// Not thread-safe: drive one PortdChild from one thread.
#ifndef MIMI_BENCHMARKS_BENCH_SUPPORT_H_
#define MIMI_BENCHMARKS_BENCH_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mimi_portability/status.h"
#include "testing/test_ca.h"

namespace httplib {
class Client;
}

namespace mimi::bench {

// The build directory this benchmark was built in (its executable lives in
// <build>/tools/benchmarks/), so that mimi-portd and mimi-portctl of the
// same build are found without a baked-in path.
std::filesystem::path BuildDirOfSelf();

// mimi-portd -c CONFIG, stdout and stderr appended to LOG.
class PortdChild {
 public:
  PortdChild(std::filesystem::path binary, std::filesystem::path config,
             std::filesystem::path data_dir, std::filesystem::path log);
  ~PortdChild();
  PortdChild(const PortdChild&) = delete;
  PortdChild& operator=(const PortdChild&) = delete;

  // Spawns and waits for <data_dir>/portd.json naming the new pid.
  Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void Kill();       // SIGKILL and reap
  void Terminate();  // SIGTERM, SIGKILL after 15 s
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Size of the log now, and whether `needle` appears after `offset`.
  uint64_t LogSize() const;
  bool LogContainsAfter(uint64_t offset, const std::string& needle,
                        std::string* line = nullptr) const;
  const std::filesystem::path& log() const { return log_; }

 private:
  std::filesystem::path binary_, config_, data_dir_, log_;
  pid_t pid_ = -1;
};

// A status line of /proc/PID/status ("VmHWM", "VmRSS") in KiB; -1 if the
// process or the line is not there.
int64_t ProcStatusKib(pid_t pid, const std::string& field);

// Resets the peak RSS (VmHWM) of a process of ours to its current RSS
// (clear_refs 5), so that the next step's peak can be read on its own.
bool ResetPeakRss(pid_t pid);

// Two mimi-portd, source.test and target.test, on loopback with leaf
// certificates of a throw-away CA, each with its data directory under
// `work`, and a client token of the target (its default target policy is
// client-token).
struct PortdPair {
  std::filesystem::path work;
  std::string ca_file;
  uint16_t source_port = 0, target_port = 0;
  std::string token;         // a client token of the target (POST /request)
  std::string source_token;  // a client token of the source (POST /ds/v1/groups)
  std::map<std::string, testing::LeafCert> leaves;  // by domain

  std::filesystem::path Config(const std::string& domain) const {
    return work / (domain + ".toml");
  }
  std::filesystem::path DataDir(const std::string& domain) const {
    return work / domain;
  }
};
Result<PortdPair> MakePortdPair(const std::filesystem::path& work);

// Writes pair.Config(domain) for source.test or target.test: the other one
// is its only peer, embedded DS, admin API on an ephemeral port or off.
// `top_level` holds more top-level settings ("max_body_bytes = ...\n"),
// `sections` more tables ("[recovery]\n...").
Status WritePortdConfig(const PortdPair& pair, const std::string& domain,
                        bool admin, const std::string& top_level = "",
                        const std::string& sections = "");

// An HTTPS client of one of the pair, verifying its certificate.
std::unique_ptr<httplib::Client> PairClient(
    const PortdPair& pair, uint16_t port,
    std::chrono::seconds read_timeout = std::chrono::seconds(30));

// Runs argv to its end with stdout and stderr to /dev/null; returns the
// wall time in ms, or an error if it could not run or exited with another
// code than `want_exit`.
Result<double> TimeRun(const std::vector<std::string>& argv, int want_exit = 0);

// The p-th percentile (0..100) of `ms`, nearest rank; 0 for none.
double Percentile(std::vector<double> ms, double p);

double MillisSince(std::chrono::steady_clock::time_point t);

// The result table of one scenario.
struct Row {
  std::string figure;
  double value = 0;
  std::string unit;  // "ms", "/s"
  std::string baseline_name;
  double baseline = 0;
  // Empty: no target for this figure.
  std::string target;
  // 1 met, 0 missed, -1 no target.
  int met = -1;
};
void PrintTable(const std::string& scenario, const std::string& header,
                const std::vector<Row>& rows);

}  // namespace mimi::bench

#endif  // MIMI_BENCHMARKS_BENCH_SUPPORT_H_
