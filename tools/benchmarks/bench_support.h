// Support for the benchmarks that run real processes (mimi-bench-recovery,
// mimi-bench-cli): where the built binaries are, mimi-portd as a child
// process with its own config and log, timed runs of short-lived commands,
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
#include <string>
#include <vector>

#include "mimi_portability/status.h"

namespace mimi::bench {

// The build directory this benchmark was built in (its executable lives in
// <build>/tools/benchmarks/), so that mimi-portd and mimi-portctl of the
// same build are found without a baked-in path.
std::filesystem::path BuildDirOfSelf();

// A free loopback TCP port below the ephemeral range (a restarted daemon
// can bind it again); 0 if none was found.
uint16_t FreeLoopbackPort();

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
  // Size of the log now, and whether `needle` appears after `offset`.
  uint64_t LogSize() const;
  bool LogContainsAfter(uint64_t offset, const std::string& needle,
                        std::string* line = nullptr) const;
  const std::filesystem::path& log() const { return log_; }

 private:
  std::filesystem::path binary_, config_, data_dir_, log_;
  pid_t pid_ = -1;
};

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
