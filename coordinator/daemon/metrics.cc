#include "daemon/metrics.h"

#include <cmath>
#include <sstream>

namespace mimi::daemon {
namespace {

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

std::string FormatLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
  }
  return out + "}";
}

void Metrics::DeclareCounter(const std::string& name, const std::string& help) {
  MutexLock lock(mu_);
  counters_[name].help = help;
}

void Metrics::IncCounter(const std::string& name, const Labels& labels,
                         uint64_t by) {
  MutexLock lock(mu_);
  counters_[name].values[labels] += by;
}

uint64_t Metrics::CounterValue(const std::string& name,
                               const Labels& labels) const {
  MutexLock lock(mu_);
  auto family = counters_.find(name);
  if (family == counters_.end()) return 0;
  auto it = family->second.values.find(labels);
  return it == family->second.values.end() ? 0 : it->second;
}

void Metrics::AddGauge(const std::string& name, const std::string& help,
                       std::function<std::vector<Sample>()> collect) {
  MutexLock lock(mu_);
  gauges_.push_back({name, help, std::move(collect), "gauge"});
}

void Metrics::AddCollectedCounter(const std::string& name, const std::string& help,
                                  std::function<std::vector<Sample>()> collect) {
  MutexLock lock(mu_);
  gauges_.push_back({name, help, std::move(collect), "counter"});
}

std::string Metrics::Render() const {
  std::ostringstream out;
  std::vector<GaugeFamily> gauges;
  {
    MutexLock lock(mu_);
    for (const auto& [name, family] : counters_) {
      out << "# HELP " << name << " " << family.help << "\n";
      out << "# TYPE " << name << " counter\n";
      for (const auto& [labels, value] : family.values) {
        out << name << FormatLabels(labels) << " " << value << "\n";
      }
    }
    gauges = gauges_;
  }
  // Collectors may query the store; run them without holding the lock so a
  // slow scrape never blocks request counting.
  // Several collectors may share a family (one per listener, say): the
  // family is written once, HELP and TYPE from its first collector.
  std::vector<bool> done(gauges.size(), false);
  for (size_t i = 0; i < gauges.size(); ++i) {
    if (done[i]) continue;
    const GaugeFamily& g = gauges[i];
    out << "# HELP " << g.name << " " << g.help << "\n";
    out << "# TYPE " << g.name << " " << g.type << "\n";
    for (size_t j = i; j < gauges.size(); ++j) {
      if (done[j] || gauges[j].name != g.name) continue;
      done[j] = true;
      for (const Sample& s : gauges[j].collect()) {
        out << g.name << FormatLabels(s.labels) << " " << FormatValue(s.value)
            << "\n";
      }
    }
  }
  return out.str();
}

}  // namespace mimi::daemon
