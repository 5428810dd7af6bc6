// Human output of mimi-portctl's operator commands: relative times ("3s
// ago", "in 2m"), UTC timestamps, sizes, progress bars and aligned text
// tables.
//
// Pure functions and a plain value type; no synchronisation needed.
#ifndef MIMI_TOOLS_CLI_OPS_FORMAT_H_
#define MIMI_TOOLS_CLI_OPS_FORMAT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "mimi_portability/clock.h"

namespace mimi::cli {

// A length of time in its largest whole unit: "0s", "45s", "3m", "2h", "5d".
std::string ShortDuration(int64_t millis);
// "3s ago" for the past, "in 3s" for the future, "now" within a second.
std::string RelativeTime(UnixMillis now, UnixMillis at);
// "2024-05-01T12:00:03.250Z".
std::string UtcTime(UnixMillis at);

// "512 B", "3.0 KiB", "64.0 MiB", "1.5 GiB".
std::string HumanBytes(uint64_t bytes);
// "[##########----------]  50%  32.0 MiB / 64.0 MiB", `width` marks wide;
// a zero total counts as done.
std::string ProgressBar(uint64_t done, uint64_t total, int width = 30);

// Columns padded to their widest cell, two spaces apart; the last column is
// not padded, so long free text (errors, details) does not widen the rest.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> row);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

}  // namespace mimi::cli

#endif  // MIMI_TOOLS_CLI_OPS_FORMAT_H_
