#include "daemon/config.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "daemon/instance_id.h"
#include "daemon/protocol_options.h"
#include "mimi_portability/domain_name.h"
#include "store/pg/pg_connection.h"

namespace mimi::daemon {
Status SettingError(std::string_view key, std::string_view what) {
  return InvalidArgumentError("config: " + std::string(key) + ": " +
                              std::string(what));
}

namespace {

// A typo in a setting name would otherwise silently keep the default.
Status CheckKnownKeys(const toml::table& table, std::string_view prefix,
                      const std::set<std::string>& known) {
  for (const auto& [key, _] : table) {
    std::string name(key.str());
    if (!known.count(name)) {
      std::string full = prefix.empty() ? name : std::string(prefix) + "." + name;
      return InvalidArgumentError("config: unknown setting '" + full + "'");
    }
  }
  return Status::Ok();
}

template <typename T>
Status Read(const toml::table& table, std::string_view prefix,
            std::string_view key, T* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  std::string full = prefix.empty() ? std::string(key)
                                    : std::string(prefix) + "." + std::string(key);
  if constexpr (std::is_same_v<T, std::string>) {
    auto v = node->value<std::string>();
    if (!v) return SettingError(full, "must be a string");
    *out = *v;
  } else if constexpr (std::is_same_v<T, bool>) {
    // value<bool>() would take 1 or 0 too; a setting documented as true or
    // false must be one.
    if (!node->is_boolean()) return SettingError(full, "must be true or false");
    *out = *node->value<bool>();
  } else {
    if (!node->is_integer()) return SettingError(full, "must be an integer");
    int64_t v = *node->value<int64_t>();
    if (v < 0) return SettingError(full, "must not be negative");
    // The cast would keep the value modulo 2^32 for an int setting, which
    // can land inside its bounds: a value nobody wrote.
    if (static_cast<uint64_t>(v) >
        static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return SettingError(full, "must be at most " +
                                    std::to_string(std::numeric_limits<T>::max()));
    }
    *out = static_cast<T>(v);
  }
  return Status::Ok();
}

Status ReadStringList(const toml::table& table, std::string_view prefix,
                      std::string_view key, std::vector<std::string>* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  std::string full = std::string(prefix) + "." + std::string(key);
  const toml::array* arr = node->as_array();
  if (arr == nullptr) return SettingError(full, "must be an array of strings");
  out->clear();
  for (const auto& item : *arr) {
    auto v = item.value<std::string>();
    if (!v) return SettingError(full, "must be an array of strings");
    out->push_back(*v);
  }
  return Status::Ok();
}

const toml::table* SubTable(const toml::table& root, std::string_view key,
                            Status* status) {
  const toml::node* node = root.get(key);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) *status = SettingError(key, "must be a table");
  return node->as_table();
}

// std::filesystem::is_regular_file(path) throws when the name cannot be
// looked up (too long, a directory without search permission); for a config
// that is the setting's problem, not an exception out of ParseConfig.
bool IsRegularFile(const std::string& file) {
  std::error_code ec;
  return std::filesystem::is_regular_file(file, ec);
}

// Configured names are compared with lowercase wire names byte for byte.
bool ValidDomain(std::string_view d) {
  if (!ValidateDomainName(d).ok()) return false;
  for (char c : d) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

Status ApplyFile(const toml::table& root, Config* c) {
  MIMI_RETURN_IF_ERROR(CheckKnownKeys(
      root, "",
      {"domain", "listen", "admin_listen", "data_dir", "log_level",
       "log_format", "ciphersuites", "max_body_bytes", "server_threads",
       "migration_workers", "keep_alive_seconds", "read_timeout_seconds", "tls",
       "peers", "policy", "recovery", "ds", "instance", "store"}));
  MIMI_RETURN_IF_ERROR(Read(root, "", "domain", &c->domain));
  std::string listen, admin_listen;
  MIMI_RETURN_IF_ERROR(Read(root, "", "listen", &listen));
  if (!listen.empty()) {
    auto hp = ParseHostPort(listen, 8443);
    if (!hp.ok()) return SettingError("listen", hp.status().detail());
    c->listen = *hp;
  }
  MIMI_RETURN_IF_ERROR(Read(root, "", "admin_listen", &admin_listen));
  if (admin_listen == "off") {
    c->admin_enabled = false;
  } else if (!admin_listen.empty()) {
    auto hp = ParseHostPort(admin_listen, 8444);
    if (!hp.ok()) return SettingError("admin_listen", hp.status().detail());
    c->admin_listen = *hp;
  }
  MIMI_RETURN_IF_ERROR(Read(root, "", "data_dir", &c->data_dir));
  MIMI_RETURN_IF_ERROR(Read(root, "", "log_level", &c->log_level));
  MIMI_RETURN_IF_ERROR(Read(root, "", "log_format", &c->log_format));
  MIMI_RETURN_IF_ERROR(Read(root, "", "max_body_bytes", &c->max_body_bytes));
  MIMI_RETURN_IF_ERROR(Read(root, "", "server_threads", &c->server_threads));
  MIMI_RETURN_IF_ERROR(
      Read(root, "", "migration_workers", &c->migration_workers));
  MIMI_RETURN_IF_ERROR(
      Read(root, "", "keep_alive_seconds", &c->keep_alive_seconds));
  MIMI_RETURN_IF_ERROR(
      Read(root, "", "read_timeout_seconds", &c->read_timeout_seconds));

  if (const toml::node* node = root.get("ciphersuites")) {
    const toml::array* arr = node->as_array();
    if (arr == nullptr) return SettingError("ciphersuites", "must be an array");
    c->ciphersuites.clear();
    for (const auto& item : *arr) {
      // value<int64_t>() would convert a float, and casting 21e40 to an
      // integer is undefined behaviour (found by the Config fuzz target); a
      // suite is an integer or the setting is wrong.
      auto v = item.value_exact<int64_t>();
      if (!v || *v < 1 || *v > 0xffff) {
        return SettingError("ciphersuites", "must hold integers 1..65535");
      }
      c->ciphersuites.push_back(static_cast<uint16_t>(*v));
    }
  }

  Status status;
  if (const toml::table* tls = SubTable(root, "tls", &status)) {
    MIMI_RETURN_IF_ERROR(CheckKnownKeys(
        *tls, "tls",
        {"insecure_plain_http", "terminated_by_proxy", "cert", "key", "ca"}));
    MIMI_RETURN_IF_ERROR(
        Read(*tls, "tls", "insecure_plain_http", &c->tls.insecure_plain_http));
    MIMI_RETURN_IF_ERROR(
        Read(*tls, "tls", "terminated_by_proxy", &c->tls.terminated_by_proxy));
    MIMI_RETURN_IF_ERROR(Read(*tls, "tls", "cert", &c->tls.cert_file));
    MIMI_RETURN_IF_ERROR(Read(*tls, "tls", "key", &c->tls.key_file));
    MIMI_RETURN_IF_ERROR(Read(*tls, "tls", "ca", &c->tls.ca_file));
  }
  MIMI_RETURN_IF_ERROR(status);

  if (const toml::table* peers = SubTable(root, "peers", &status)) {
    for (const auto& [key, node] : *peers) {
      std::string name(key.str());
      auto v = node.value<std::string>();
      if (!v) return SettingError("peers." + name, "must be a \"host:port\" string");
      auto hp = ParseHostPort(*v, 443);
      if (!hp.ok()) return SettingError("peers." + name, hp.status().detail());
      c->peers[name] = *hp;
    }
  }
  MIMI_RETURN_IF_ERROR(status);

  if (const toml::table* i = SubTable(root, "instance", &status)) {
    MIMI_RETURN_IF_ERROR(CheckKnownKeys(*i, "instance", {"id"}));
    MIMI_RETURN_IF_ERROR(Read(*i, "instance", "id", &c->instance_id));
  }
  MIMI_RETURN_IF_ERROR(status);

  if (const toml::table* p = SubTable(root, "policy", &status)) {
    MIMI_RETURN_IF_ERROR(CheckKnownKeys(
        *p, "policy",
        {"source", "target", "allow_peers", "deny_peers",
         "group_cooldown_seconds", "response_ttl_seconds"}));
    MIMI_RETURN_IF_ERROR(Read(*p, "policy", "source", &c->policy.source_policy));
    MIMI_RETURN_IF_ERROR(Read(*p, "policy", "target", &c->policy.target_policy));
    MIMI_RETURN_IF_ERROR(
        ReadStringList(*p, "policy", "allow_peers", &c->policy.allow_peers));
    MIMI_RETURN_IF_ERROR(
        ReadStringList(*p, "policy", "deny_peers", &c->policy.deny_peers));
    MIMI_RETURN_IF_ERROR(Read(*p, "policy", "group_cooldown_seconds",
                              &c->policy.group_cooldown_seconds));
    MIMI_RETURN_IF_ERROR(Read(*p, "policy", "response_ttl_seconds",
                              &c->policy.response_ttl_seconds));
  }
  MIMI_RETURN_IF_ERROR(status);

  if (const toml::table* r = SubTable(root, "recovery", &status)) {
    MIMI_RETURN_IF_ERROR(CheckKnownKeys(
        *r, "recovery",
        {"scan_interval_ms", "backoff_initial_ms", "backoff_max_ms",
         "max_attempts", "lease_ms", "auto_abort_after_seconds",
         "heartbeat_ms", "heartbeat_timeout_ms", "reclaim_dead_leases"}));
    auto& rc = c->recovery;
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "scan_interval_ms", &rc.scan_interval_ms));
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "backoff_initial_ms", &rc.backoff_initial_ms));
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "backoff_max_ms", &rc.backoff_max_ms));
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "max_attempts", &rc.max_attempts));
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "lease_ms", &rc.lease_ms));
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "auto_abort_after_seconds",
                              &rc.auto_abort_after_seconds));
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "heartbeat_ms", &rc.heartbeat_ms));
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "heartbeat_timeout_ms",
                              &rc.heartbeat_timeout_ms));
    MIMI_RETURN_IF_ERROR(Read(*r, "recovery", "reclaim_dead_leases",
                              &rc.reclaim_dead_leases));
  }
  MIMI_RETURN_IF_ERROR(status);

  if (const toml::table* st = SubTable(root, "store", &status)) {
    MIMI_RETURN_IF_ERROR(CheckKnownKeys(
        *st, "store", {"backend", "url", "password_file", "max_connections"}));
    MIMI_RETURN_IF_ERROR(Read(*st, "store", "backend", &c->store.backend));
    MIMI_RETURN_IF_ERROR(Read(*st, "store", "url", &c->store.url));
    MIMI_RETURN_IF_ERROR(
        Read(*st, "store", "password_file", &c->store.password_file));
    MIMI_RETURN_IF_ERROR(
        Read(*st, "store", "max_connections", &c->store.max_connections));
  }
  MIMI_RETURN_IF_ERROR(status);

  if (const toml::table* d = SubTable(root, "ds", &status)) {
    MIMI_RETURN_IF_ERROR(
        CheckKnownKeys(*d, "ds",
                       {"mode", "base_url", "secret_file", "timeout_ms", "ca",
                        "max_group_id_bytes", "join_store_transactions"}));
    MIMI_RETURN_IF_ERROR(Read(*d, "ds", "mode", &c->ds.mode));
    MIMI_RETURN_IF_ERROR(Read(*d, "ds", "base_url", &c->ds.base_url));
    MIMI_RETURN_IF_ERROR(Read(*d, "ds", "secret_file", &c->ds.secret_file));
    MIMI_RETURN_IF_ERROR(Read(*d, "ds", "timeout_ms", &c->ds.timeout_ms));
    MIMI_RETURN_IF_ERROR(Read(*d, "ds", "ca", &c->ds.ca_file));
    MIMI_RETURN_IF_ERROR(
        Read(*d, "ds", "max_group_id_bytes", &c->ds.max_group_id_bytes));
    MIMI_RETURN_IF_ERROR(Read(*d, "ds", "join_store_transactions",
                              &c->ds.join_store_transactions));
  }
  return status;
}

// The store's settings. The embedded DS keeps its tables in the store's
// database on either backend.
Status ValidateStore(const StoreConfig& st) {
  if (st.backend == "sqlite") {
    if (!st.url.empty()) {
      return SettingError("store.url", "is for store.backend = \"postgresql\"");
    }
    if (!st.password_file.empty()) {
      return SettingError("store.password_file",
                          "is for store.backend = \"postgresql\"");
    }
    return Status::Ok();
  }
  if (st.backend != "postgresql") {
    return SettingError("store.backend", "must be \"sqlite\" or \"postgresql\"");
  }
  if (st.url.empty()) {
    return SettingError("store.url", "is required with store.backend = \"postgresql\"");
  }
  // The detail names what is wrong and never echoes a password.
  if (Status url = store::pg::CheckUrl(st.url); !url.ok()) {
    return SettingError("store.url", url.detail());
  }
  if (!st.password_file.empty()) {
    std::error_code ec;
    const auto fs = std::filesystem::status(st.password_file, ec);
    if (ec || !std::filesystem::is_regular_file(fs)) {
      return SettingError("store.password_file",
                          "no such file: " + st.password_file);
    }
    using std::filesystem::perms;
    if ((fs.permissions() & (perms::group_all | perms::others_all)) !=
        perms::none) {
      return SettingError("store.password_file",
                          "must be readable by its owner only (chmod 600 " +
                              st.password_file + ")");
    }
  }
  if (st.max_connections < 1 || st.max_connections > 1024) {
    return SettingError("store.max_connections", "must be between 1 and 1024");
  }
  return Status::Ok();
}

bool LoopbackHost(std::string_view authority) {
  std::string_view host = authority;
  if (host.starts_with("[")) {
    host = host.substr(1, host.find(']') == std::string_view::npos
                              ? std::string_view::npos
                              : host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// The hooks carry group state; in the clear they may only cross loopback.
Status ValidateDs(const DsConfig& ds) {
  if (ds.max_group_id_bytes < 1 || ds.max_group_id_bytes > 65'535) {
    return SettingError("ds.max_group_id_bytes", "must be between 1 and 65535");
  }
  if (ds.mode == "embedded") return Status::Ok();
  if (ds.mode != "http") return SettingError("ds.mode", "must be \"embedded\" or \"http\"");
  if (ds.base_url.empty()) return SettingError("ds.base_url", "is required in http mode");
  const bool https = ds.base_url.starts_with("https://");
  if (!https && !ds.base_url.starts_with("http://")) {
    return SettingError("ds.base_url", "must start with https:// (or http:// to loopback)");
  }
  const std::string_view rest =
      std::string_view(ds.base_url).substr(https ? 8 : 7);
  const std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty()) return SettingError("ds.base_url", "missing host");
  if (!https && !LoopbackHost(authority)) {
    return SettingError("ds.base_url",
                        "plain http:// is allowed only to a loopback host");
  }
  if (ds.secret_file.empty()) {
    return SettingError("ds.secret_file", "is required in http mode");
  }
  std::error_code ec;
  const auto st = std::filesystem::status(ds.secret_file, ec);
  if (ec || !std::filesystem::is_regular_file(st)) {
    return SettingError("ds.secret_file", "no such file: " + ds.secret_file);
  }
  using std::filesystem::perms;
  if ((st.permissions() & (perms::group_all | perms::others_all)) != perms::none) {
    return SettingError("ds.secret_file",
                        "must be readable by its owner only (chmod 600 " +
                            ds.secret_file + ")");
  }
  if (ds.timeout_ms < 100 || ds.timeout_ms > 600'000) {
    return SettingError("ds.timeout_ms", "must be between 100 and 600000");
  }
  if (!ds.ca_file.empty()) {
    if (!https) return SettingError("ds.ca", "needs an https:// ds.base_url");
    if (!IsRegularFile(ds.ca_file)) {
      return SettingError("ds.ca", "no such file: " + ds.ca_file);
    }
  }
  return Status::Ok();
}

Status ApplyOverrides(const ConfigOverrides& o, Config* c) {
  if (o.domain) c->domain = *o.domain;
  if (o.data_dir) c->data_dir = *o.data_dir;
  if (o.log_level) c->log_level = *o.log_level;
  if (o.log_format) c->log_format = *o.log_format;
  if (o.listen) {
    auto hp = ParseHostPort(*o.listen, 8443);
    if (!hp.ok()) return SettingError("--listen", hp.status().detail());
    c->listen = *hp;
  }
  if (o.admin_listen && *o.admin_listen == "off") {
    c->admin_enabled = false;
  } else if (o.admin_listen) {
    c->admin_enabled = true;
    auto hp = ParseHostPort(*o.admin_listen, 8444);
    if (!hp.ok()) return SettingError("--admin-listen", hp.status().detail());
    c->admin_listen = *hp;
  }
  for (const std::string& p : o.peers) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return SettingError("--peer", "expected domain=host:port, got '" + p + "'");
    }
    auto hp = ParseHostPort(p.substr(eq + 1), 443);
    if (!hp.ok()) return SettingError("--peer", hp.status().detail());
    c->peers[p.substr(0, eq)] = *hp;
  }
  return Status::Ok();
}

// Every problem of `c`, in the order of docs/operations.md's reference; a
// check that depends on a setting already found wrong is skipped.
std::vector<Status> Problems(const Config& c) {
  std::vector<Status> out;
  auto fail = [&out](std::string_view key, std::string_view what) {
    out.push_back(SettingError(key, what));
  };
  if (c.domain.empty()) {
    fail("domain", "is required");
  } else if (!ValidDomain(c.domain)) {
    fail("domain", "must be a lowercase DNS name");
  }
  if (c.data_dir.empty()) fail("data_dir", "is required");
  for (const auto& [peer, _] : c.peers) {
    if (!ValidDomain(peer))
      fail("peers." + peer, "must be a lowercase DNS name");
  }
  if (c.ciphersuites.empty())
    fail("ciphersuites", "must name at least one suite");
  for (uint16_t cs : c.ciphersuites) {
    if (cs < 1 || cs > 7) {
      fail("ciphersuites", "suite " + std::to_string(cs) +
                               " is not one of the RFC 9420 suites 1..7");
    }
  }
  // Plain HTTP from a proxy must not be reachable from anywhere else.
  const std::string listen_host = c.listen.host.find(':') == std::string::npos
                                      ? c.listen.host
                                      : "[" + c.listen.host + "]";
  if (c.tls.terminated_by_proxy && !LoopbackHost(listen_host)) {
    fail("listen",
         "must be a loopback address when tls.terminated_by_proxy = true");
  }
  if (c.tls.terminated_by_proxy && !c.tls.ca_file.empty() &&
      !IsRegularFile(c.tls.ca_file)) {
    fail("tls.ca", "no such file: " + c.tls.ca_file);
  }
  if (!c.tls.insecure_plain_http && !c.tls.terminated_by_proxy) {
    if (c.tls.cert_file.empty()) {
      fail("tls.cert",
           "is required (or set tls.insecure_plain_http = true for local use)");
    }
    if (c.tls.key_file.empty()) fail("tls.key", "is required");
    for (const auto& [key, file] :
         {std::pair{"tls.cert", c.tls.cert_file}, {"tls.key", c.tls.key_file},
          {"tls.ca", c.tls.ca_file}}) {
      if (!file.empty() && !IsRegularFile(file)) {
        fail(key, "no such file: " + file);
      }
    }
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info",
                                                "warn",  "error", "off"};
  if (!kLevels.count(c.log_level)) {
    fail("log_level", "must be trace, debug, info, warn, error or off");
  }
  if (c.log_format != "text" && c.log_format != "json") {
    fail("log_format", "must be text or json");
  }
  // The protocol's enums (daemon/protocol_options.h) spell the valid values.
  for (const Status& s : {ParseSourcePolicy(c.policy.source_policy).status(),
                          ParseTargetPolicy(c.policy.target_policy).status()}) {
    if (!s.ok()) out.push_back(s);
  }
  if (c.policy.response_ttl_seconds < 1) {
    fail("policy.response_ttl_seconds", "must be at least 1");
  }
  if (c.max_body_bytes < 1024 || c.max_body_bytes > (1ull << 30) - 1) {
    fail("max_body_bytes", "must be between 1 KiB and 1 GiB");
  }
  if (c.server_threads < 2 || c.server_threads > 1024) {
    fail("server_threads", "must be between 2 and 1024");
  }
  if (c.migration_workers < 1 || c.migration_workers > 1024) {
    fail("migration_workers", "must be between 1 and 1024");
  }
  if (c.keep_alive_seconds < 1 || c.keep_alive_seconds > 300) {
    fail("keep_alive_seconds", "must be between 1 and 300");
  }
  if (c.read_timeout_seconds < 1 || c.read_timeout_seconds > 300) {
    fail("read_timeout_seconds", "must be between 1 and 300");
  }
  const RecoveryConfig& r = c.recovery;
  if (r.backoff_initial_ms < 1 || r.backoff_max_ms < r.backoff_initial_ms) {
    fail("recovery.backoff_max_ms",
         "must be at least recovery.backoff_initial_ms (>= 1)");
  }
  if (r.max_attempts < 1) fail("recovery.max_attempts", "must be at least 1");
  if (r.lease_ms < 100) fail("recovery.lease_ms", "must be at least 100");
  if (r.scan_interval_ms < 10) {
    fail("recovery.scan_interval_ms", "must be at least 10");
  }
  if (r.heartbeat_ms < 10 || r.heartbeat_ms > 600'000) {
    fail("recovery.heartbeat_ms", "must be between 10 and 600000");
  } else if (r.heartbeat_timeout_ms < 3 * r.heartbeat_ms) {
    // Two beats may be late (a busy database) before peers take the leases.
    fail("recovery.heartbeat_timeout_ms",
         "must be at least 3 x recovery.heartbeat_ms");
  }
  if (!c.instance_id.empty()) {
    if (Status id = ValidateInstanceId(c.instance_id, "config: instance.id");
        !id.ok()) {
      out.push_back(id);
    }
  }
  if (Status ds = ValidateDs(c.ds); !ds.ok()) out.push_back(ds);
  if (Status st = ValidateStore(c.store); !st.ok()) out.push_back(st);
  return out;
}

}  // namespace

HostPort Config::PeerAddress(const std::string& peer_domain) const {
  auto it = peers.find(peer_domain);
  if (it != peers.end()) return it->second;
  return HostPort{peer_domain, 443};
}

namespace {

// The file's and the overrides' settings in `config`, unvalidated; a TOML
// syntax error, an unknown key or a wrong type stops the reading.
Status ReadSettings(std::string_view toml_text,
                    const ConfigOverrides& overrides,
                    std::string_view file_name, Config* config) {
  try {
    toml::table root = toml::parse(toml_text, file_name);
    MIMI_RETURN_IF_ERROR(ApplyFile(root, config));
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config: " << file_name << ":" << e.source().begin.line << ":"
        << e.source().begin.column << ": " << e.description();
    return InvalidArgumentError(msg.str());
  }
  return ApplyOverrides(overrides, config);
}

Status ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return InvalidArgumentError("config: cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view toml_text,
                           const ConfigOverrides& overrides,
                           std::string_view file_name) {
  Config config;
  MIMI_RETURN_IF_ERROR(ReadSettings(toml_text, overrides, file_name, &config));
  std::vector<Status> problems = Problems(config);
  if (!problems.empty()) return problems.front();
  return config;
}

Result<Config> LoadConfigFile(const std::string& path,
                              const ConfigOverrides& overrides) {
  std::string text;
  MIMI_RETURN_IF_ERROR(ReadFile(path, &text));
  return ParseConfig(text, overrides, path);
}

std::vector<Status> ConfigFileProblems(const std::string& path,
                                       const ConfigOverrides& overrides,
                                       Config* config) {
  std::string text;
  if (Status s = ReadFile(path, &text); !s.ok()) return {s};
  if (Status s = ReadSettings(text, overrides, path, config); !s.ok())
    return {s};
  return Problems(*config);
}

}  // namespace mimi::daemon
