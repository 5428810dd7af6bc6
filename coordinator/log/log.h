// The coordinator's log: one line per event, through spdlog's default
// logger (so mimi-portd's level and line pattern apply). A call formats its
// line with fmt's compiled vformat and hands spdlog the finished text,
// because spdlog's own formatting front end instantiates fmt's whole
// formatter, floating point included, in every translation unit that logs:
// 7 CPU s per unit at -O0 and 16 s at -O1 under the sanitizers, measured
// against 1 s this way. Nothing is formatted for a level that is off.
//
// Two line formats (log_format in docs/operations.md): text for people,
// "time level [domain] event", and JSON for log shippers, one object per
// line: {"time","level","domain","migration","event"}, "migration" only on
// lines about one migration. Such lines name it in either format: callers
// pass Migration{id} first.
//
// Thread-safe: spdlog's default logger is; the level and the format are set
// once at start, before other threads log.
#ifndef MIMI_LOG_LOG_H_
#define MIMI_LOG_LOG_H_

#include <fmt/core.h>

#include <string_view>
#include <utility>

namespace mimi::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

// The migration a line is about (its id, the nonce in hex).
struct Migration {
  std::string_view id;
};

// Whether a line at `level` is written at the current level.
bool Enabled(Level level);
// Writes one finished line at `level`, about `migration` if not empty.
void Write(Level level, std::string_view migration, std::string_view event);

// Sets the level from its config name ("trace", "debug", "info", "warn",
// "error", "critical", "off"; docs/operations.md), the format, and `tag`
// (the daemon's domain) that every line names.
void Configure(std::string_view level_name, std::string_view tag,
               Format format = Format::kText);
void SetLevel(Level level);

template <typename... Args>
void Log(Level level, Migration about, fmt::format_string<Args...> format,
         Args&&... args) {
  if (!Enabled(level)) return;
  Write(level, about.id, fmt::vformat(format, fmt::make_format_args(args...)));
}
template <typename... Args>
void Log(Level level, fmt::format_string<Args...> format, Args&&... args) {
  Log(level, Migration{}, format, std::forward<Args>(args)...);
}

template <typename... Args>
void Debug(fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kDebug, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Debug(Migration about, fmt::format_string<Args...> format,
           Args&&... args) {
  Log(Level::kDebug, about, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Info(fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kInfo, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Info(Migration about, fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kInfo, about, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Warn(fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kWarn, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Warn(Migration about, fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kWarn, about, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Error(fmt::format_string<Args...> format, Args&&... args) {
  Log(Level::kError, format, std::forward<Args>(args)...);
}
template <typename... Args>
void Error(Migration about, fmt::format_string<Args...> format,
           Args&&... args) {
  Log(Level::kError, about, format, std::forward<Args>(args)...);
}

}  // namespace mimi::log

#endif  // MIMI_LOG_LOG_H_
