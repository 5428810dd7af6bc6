#include "log/log.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <string>

#include "codec/json_text.h"

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

// Set by Configure before any other thread logs.
Format g_format = Format::kText;

// A JSON string (quotes included); bytes that are not UTF-8 become U+FFFD,
// so that one bad byte cannot make a line a shipper refuses.
std::string JsonString(std::string_view text) {
  return codec::DumpJson(nlohmann::json(text), -1,
                         codec::InvalidUtf8::kReplace);
}

}  // namespace

bool Enabled(Level level) {
  return spdlog::default_logger_raw()->should_log(SpdlogLevel(level));
}

void Write(Level level, std::string_view migration, std::string_view event) {
  std::string line;
  if (g_format == Format::kJson) {
    // The pattern wrote {"time":..,"level":..,"domain":.., before this.
    if (!migration.empty())
      line = "\"migration\":" + JsonString(migration) + ",";
    line += "\"event\":" + JsonString(event) + "}";
  } else if (!migration.empty()) {
    line = "migration " + std::string(migration) + ": " + std::string(event);
  } else {
    line = std::string(event);
  }
  spdlog::default_logger_raw()->log(
      SpdlogLevel(level), spdlog::string_view_t(line.data(), line.size()));
}

void Configure(std::string_view level_name, std::string_view tag,
               Format format) {
  g_format = format;
  spdlog::set_level(spdlog::level::from_str(std::string(level_name)));
  if (format == Format::kJson) {
    // UTC with a Z, as shippers parse it without a zone table.
    spdlog::set_pattern(
        "{\"time\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\","
        "\"domain\":" +
            JsonString(tag) + ",%v",
        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + std::string(tag) +
                        "] %v");
  }
}

void SetLevel(Level level) { spdlog::set_level(SpdlogLevel(level)); }

}  // namespace mimi::log
