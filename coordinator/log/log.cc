#include "log/log.h"

#include <spdlog/spdlog.h>

#include <string>

namespace mimi::log {
namespace {

spdlog::level::level_enum SpdlogLevel(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

}  // namespace

bool Enabled(Level level) {
  return spdlog::default_logger_raw()->should_log(SpdlogLevel(level));
}

void Write(Level level, std::string_view line) {
  spdlog::default_logger_raw()->log(
      SpdlogLevel(level), spdlog::string_view_t(line.data(), line.size()));
}

void Configure(std::string_view level_name, std::string_view tag) {
  spdlog::set_level(spdlog::level::from_str(std::string(level_name)));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + std::string(tag) +
                      "] %v");
}

void SetLevel(Level level) { spdlog::set_level(SpdlogLevel(level)); }

}  // namespace mimi::log
