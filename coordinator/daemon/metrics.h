// Metrics: a small registry rendered in the Prometheus text exposition
// format (version 0.0.4) at GET /metrics.
//
// Counters are incremented by the code paths that observe events (requests,
// peer errors); gauges are computed at scrape time by collectors (migrations
// by state come from the store, so they survive restarts and stay correct
// when several processes share one database). Thread-safe: handlers on many
// threads increment while a scrape renders.
#ifndef MIMI_DAEMON_METRICS_H_
#define MIMI_DAEMON_METRICS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "codec/mutex.h"

namespace mimi::daemon {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  Labels labels;
  double value = 0;
};

class Metrics {
 public:
  // Declares a counter family; incrementing an undeclared one is a bug that
  // shows up as a family without HELP, not as a crash.
  void DeclareCounter(const std::string& name, const std::string& help)
      EXCLUDES(mu_);
  void IncCounter(const std::string& name, const Labels& labels,
                  uint64_t by = 1) EXCLUDES(mu_);
  uint64_t CounterValue(const std::string& name, const Labels& labels) const
      EXCLUDES(mu_);

  // A gauge family whose samples `collect` computes at each scrape. A
  // collector that throws is not caught here: collectors must not throw.
  // Adding a name again adds a collector to the same family.
  void AddGauge(const std::string& name, const std::string& help,
                std::function<std::vector<Sample>()> collect) EXCLUDES(mu_);
  // A counter family that another component already counts (e.g. the
  // SQLite writer's totals), read at each scrape like a gauge.
  void AddCollectedCounter(const std::string& name, const std::string& help,
                           std::function<std::vector<Sample>()> collect)
      EXCLUDES(mu_);

  std::string Render() const EXCLUDES(mu_);

 private:
  struct CounterFamily {
    std::string help;
    std::map<Labels, uint64_t> values;
  };
  struct GaugeFamily {
    std::string name;
    std::string help;
    std::function<std::vector<Sample>()> collect;
    const char* type = "gauge";
  };

  mutable Mutex mu_;
  std::map<std::string, CounterFamily> counters_ GUARDED_BY(mu_);
  std::vector<GaugeFamily> gauges_ GUARDED_BY(mu_);
};

// `{a="x",b="y"}` with Prometheus escaping; empty for no labels.
std::string FormatLabels(const Labels& labels);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_METRICS_H_
