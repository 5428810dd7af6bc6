// Fuzz check for the config parser (daemon/config.h): any bytes as the TOML
// of mimi-portd's config file. Same shape as fuzz::CheckMessage: "" or a
// violation, and whether the input was accepted.
//
// ParseConfig must either refuse the text with kInvalidArgument and a detail
// starting "config: " (how every config problem reads), or accept it; then
// the file is read again with toml++ on its own, and every setting it gives
// that the check knows (the integers, the ciphersuites and the plain
// strings) must hold exactly the file's value in the Config: a setting that
// loads as something else than what the operator wrote would pass the
// validation with a value nobody chose. Nothing may throw.
// Pure apart from the existence checks the validation makes for the files a
// config names; thread-safe.
#ifndef MIMI_TESTS_FUZZ_FUZZ_CONFIG_H_
#define MIMI_TESTS_FUZZ_FUZZ_CONFIG_H_

#include <toml++/toml.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config.h"
#include "mimi_portability/bytes.h"

namespace mimi {
namespace fuzz_config {

// Settings whose file value the Config keeps as it is, by their dotted path.
inline std::vector<std::pair<std::string_view,
                             std::function<int64_t(const daemon::Config&)>>>
IntegerSettings() {
  using C = daemon::Config;
  return {
      {"max_body_bytes",
       [](const C& c) { return static_cast<int64_t>(c.max_body_bytes); }},
      {"server_threads", [](const C& c) { return int64_t{c.server_threads}; }},
      {"migration_workers",
       [](const C& c) { return int64_t{c.migration_workers}; }},
      {"keep_alive_seconds",
       [](const C& c) { return int64_t{c.keep_alive_seconds}; }},
      {"read_timeout_seconds",
       [](const C& c) { return int64_t{c.read_timeout_seconds}; }},
      {"policy.group_cooldown_seconds",
       [](const C& c) { return c.policy.group_cooldown_seconds; }},
      {"policy.response_ttl_seconds",
       [](const C& c) { return c.policy.response_ttl_seconds; }},
      {"recovery.scan_interval_ms",
       [](const C& c) { return c.recovery.scan_interval_ms; }},
      {"recovery.backoff_initial_ms",
       [](const C& c) { return c.recovery.backoff_initial_ms; }},
      {"recovery.backoff_max_ms",
       [](const C& c) { return c.recovery.backoff_max_ms; }},
      {"recovery.max_attempts",
       [](const C& c) { return int64_t{c.recovery.max_attempts}; }},
      {"recovery.lease_ms", [](const C& c) { return c.recovery.lease_ms; }},
      {"recovery.auto_abort_after_seconds",
       [](const C& c) { return c.recovery.auto_abort_after_seconds; }},
      {"recovery.heartbeat_ms",
       [](const C& c) { return c.recovery.heartbeat_ms; }},
      {"recovery.heartbeat_timeout_ms",
       [](const C& c) { return c.recovery.heartbeat_timeout_ms; }},
      {"ds.timeout_ms", [](const C& c) { return c.ds.timeout_ms; }},
      {"ds.max_group_id_bytes",
       [](const C& c) { return c.ds.max_group_id_bytes; }},
      {"store.max_connections",
       [](const C& c) { return c.store.max_connections; }},
  };
}

inline std::vector<
    std::pair<std::string_view, std::function<std::string(const daemon::Config&)>>>
StringSettings() {
  using C = daemon::Config;
  return {
      {"domain", [](const C& c) { return c.domain; }},
      {"data_dir", [](const C& c) { return c.data_dir; }},
      {"log_level", [](const C& c) { return c.log_level; }},
      {"log_format", [](const C& c) { return c.log_format; }},
      {"tls.cert", [](const C& c) { return c.tls.cert_file; }},
      {"tls.key", [](const C& c) { return c.tls.key_file; }},
      {"tls.ca", [](const C& c) { return c.tls.ca_file; }},
      {"instance.id", [](const C& c) { return c.instance_id; }},
      {"ds.mode", [](const C& c) { return c.ds.mode; }},
      {"ds.base_url", [](const C& c) { return c.ds.base_url; }},
      {"store.backend", [](const C& c) { return c.store.backend; }},
      {"store.url", [](const C& c) { return c.store.url; }},
  };
}

inline std::string Check(std::string_view text, bool* accepted) {
  Result<daemon::Config> config = daemon::ParseConfig(text, {});
  if (accepted != nullptr) *accepted = config.ok();
  if (!config.ok()) {
    const Status& s = config.status();
    if (s.code() != StatusCode::kInvalidArgument) {
      return "config: rejected with a code other than invalid-argument: " +
             s.ToString();
    }
    if (!s.detail().starts_with("config: ")) {
      return "config: error detail does not start with \"config: \": " +
             s.detail();
    }
    return "";
  }
  toml::table file;
  try {
    file = toml::parse(text);
  } catch (const toml::parse_error& e) {
    return std::string("config: accepted text toml++ does not parse: ") +
           std::string(e.description());
  }
  for (const auto& [path, get] : IntegerSettings()) {
    const toml::node_view<toml::node> node = file.at_path(path);
    if (!node) continue;
    const std::optional<int64_t> v = node.value_exact<int64_t>();
    if (!v) return "config: " + std::string(path) + " accepted as a non-integer";
    if (get(*config) != *v) {
      return "config: " + std::string(path) + " = " + std::to_string(*v) +
             " in the file loads as " + std::to_string(get(*config));
    }
  }
  for (const auto& [path, get] : StringSettings()) {
    const toml::node_view<toml::node> node = file.at_path(path);
    if (!node) continue;
    const std::optional<std::string> v = node.value_exact<std::string>();
    if (!v) return "config: " + std::string(path) + " accepted as a non-string";
    if (get(*config) != *v) {
      return "config: " + std::string(path) + " loads as another string";
    }
  }
  if (const toml::array* suites = file["ciphersuites"].as_array()) {
    if (suites->size() != config->ciphersuites.size()) {
      return "config: ciphersuites loads with another length";
    }
    for (size_t i = 0; i < suites->size(); ++i) {
      const std::optional<int64_t> v = (*suites)[i].value_exact<int64_t>();
      if (!v || *v != config->ciphersuites[i]) {
        return "config: ciphersuites[" + std::to_string(i) +
               "] loads as another suite";
      }
    }
  }
  return "";
}

}  // namespace fuzz_config

inline std::string CheckConfig(ByteSpan input, bool* accepted) {
  try {
    return fuzz_config::Check(
        std::string_view(reinterpret_cast<const char*>(input.data()),
                         input.size()),
        accepted);
  } catch (const std::exception& e) {
    return std::string("config: the parser threw: ") + e.what();
  }
}

}  // namespace mimi

#endif  // MIMI_TESTS_FUZZ_FUZZ_CONFIG_H_
