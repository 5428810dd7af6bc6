#include "cli/ops_format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <utility>

namespace mimi::cli {

std::string ShortDuration(int64_t millis) {
  int64_t s = std::max<int64_t>(millis, 0) / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  // Hours up to two days: "36h" reads better than "1d" for a stuck migration.
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string RelativeTime(UnixMillis now, UnixMillis at) {
  int64_t delta = now - at;
  if (delta > -1000 && delta < 1000) return "now";
  if (delta > 0) return ShortDuration(delta) + " ago";
  return "in " + ShortDuration(-delta);
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string ProgressBar(uint64_t done, uint64_t total, int width) {
  // Integer arithmetic so that the bar is full only when every byte is sent.
  const uint64_t capped = std::min(done, total);
  const uint64_t marks =
      total == 0 ? static_cast<uint64_t>(width) : capped * width / total;
  const uint64_t percent = total == 0 ? 100 : capped * 100 / total;
  std::string bar = "[" + std::string(marks, '#') +
                    std::string(static_cast<size_t>(width) - marks, '-') + "]";
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(percent));
  return bar + " " + pct + "  " + HumanBytes(capped) + " / " + HumanBytes(total);
}

std::string UtcTime(UnixMillis at) {
  std::time_t secs = static_cast<std::time_t>(at / 1000);
  int64_t ms = at % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

Table::Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

void Table::AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(width[i] - row[i].size() + 2, ' ');
      }
    }
    out << line << "\n";
  }
}

}  // namespace mimi::cli
