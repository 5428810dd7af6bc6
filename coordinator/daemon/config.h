// Config: everything mimi-portd reads at start, from a TOML file (toml++)
// with command-line overrides applied on top.
//
// Loading validates every setting and fails with a Status whose detail names
// the setting ("config: tls.cert: ..."), so a bad config stops the daemon
// before it binds a port or opens a database. A loaded Config is an immutable
// value; share it freely between threads. The reference of every setting is
// docs/operations.md.
#ifndef MIMI_DAEMON_CONFIG_H_
#define MIMI_DAEMON_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codec/host_port.h"
#include "mimi_portability/status.h"

namespace mimi::daemon {

// Listen and peer addresses: "host:port", "[v6]:port"; a bare host takes
// the setting's default port (codec/host_port.h, the one parser).
using codec::HostPort;
using codec::ParseHostPort;

struct TlsConfig {
  // Plain HTTP is for local experiments only and must be asked for by name.
  bool insecure_plain_http = false;
  // The public listener speaks plain HTTP to a TLS-terminating reverse
  // proxy on this host (the supported deployment on the open internet,
  // docs/operations.md); `listen` must then be a loopback address. Peers are
  // still reached over verified HTTPS, and cert/key belong to the proxy.
  bool terminated_by_proxy = false;
  std::string cert_file;  // PEM chain of this DS
  std::string key_file;   // PEM private key
  // CA bundle used to verify peers; empty = the system's default store.
  std::string ca_file;
};

struct PolicyConfig {
  // Source role: who may migrate a group away. "member" = any member whose
  // leaf signs the MigrationInit (the draft's suggested default).
  std::string source_policy = "member";
  // Target role: who may import. "client-token" = clients holding a token
  // this DS issued (they may create groups here); "any" = everyone.
  std::string target_policy = "client-token";
  // Peer domains; an empty allow list allows all not denied.
  std::vector<std::string> allow_peers;
  std::vector<std::string> deny_peers;
  // Minimum time between two migrations of one group, either direction.
  int64_t group_cooldown_seconds = 0;
  // How long a MigrationResponse (its nonce) stays usable.
  int64_t response_ttl_seconds = 600;
};

struct RecoveryConfig {
  int64_t scan_interval_ms = 1000;
  int64_t backoff_initial_ms = 200;
  int64_t backoff_max_ms = 60'000;
  int max_attempts = 50;  // then the migration is parked as stalled
  // Longer than the peer I/O timeout (60 s), so a driver waiting on a slow
  // target keeps its lease; a crashed driver's lease lapses after this.
  int64_t lease_ms = 120'000;
  // 0 = never abort automatically.
  int64_t auto_abort_after_seconds = 0;
  // The lease holder's heartbeat, and how long without one makes it dead
  // (its leases are then taken over; docs/operations.md "Lease holders").
  int64_t heartbeat_ms = 2000;
  int64_t heartbeat_timeout_ms = 6000;
  // false: a dead holder's leases lapse at lease_ms only.
  bool reclaim_dead_leases = true;
};

// [ds]: the Delivery Service mimi-portd drives (docs/ds-interface.md).
struct DsConfig {
  // "embedded": the reference DS inside mimi-portd. "http": an operator's
  // own DS behind the HTTP hooks (coordinator/ds_http/).
  std::string mode = "embedded";
  // http mode: "https://host[:port][/prefix]"; http:// only to loopback.
  std::string base_url;
  // http mode: the shared HMAC secret (>= 32 bytes, trailing white space
  // ignored), in a file only its owner may read (mode 0600 or stricter).
  std::string secret_file;
  int64_t timeout_ms = 5000;  // per hook call
  // https: CA bundle that verifies the DS; empty = the system's store.
  std::string ca_file;
  // embedded mode: the longest group id POST /ds/v1/groups accepts.
  int64_t max_group_id_bytes = 256;
  // embedded mode: each protocol step's DS write joins the store's
  // transaction of that step (one durable commit a step; docs/protocol.md
  // §4 "One commit per step"). false: the DS writes in transactions of
  // its own after the store's, as with an external DS (for comparison).
  bool join_store_transactions = true;
};

// [store]: where the migrations are kept (docs/operations.md, "Choosing a
// store backend").
struct StoreConfig {
  // "sqlite": <data_dir>/mimi.db. "postgresql": a server at `url`, which
  // several instances may share; mimi-portd runs it with ds.mode = "http"
  // only (the embedded DS keeps its tables in SQLite).
  std::string backend = "sqlite";
  // postgresql: "postgresql://user@host:port/dbname[?sslmode=...]", never
  // with a password in it.
  std::string url;
  // postgresql: the password's file (its first line; owner-only, like
  // ds.secret_file); empty = libpq's own sources (PGPASSWORD, ~/.pgpass).
  std::string password_file;
  // postgresql: the most connections this instance opens.
  int64_t max_connections = 16;
  // sqlite: the registered SQLite VFS to open the database through; empty =
  // SQLite's default. Not read from the config file: tests set it to inject
  // disk faults (tests/testing/faulty_vfs.h).
  std::string sqlite_vfs = {};
};

struct Config {
  std::string domain;                    // this DS's domain name
  HostPort listen{"127.0.0.1", 8443};    // public protocol listener
  // Loopback admin API (mimi-portctl); port 0 picks a free one.
  HostPort admin_listen{"127.0.0.1", 8444};
  bool admin_enabled = true;  // admin_listen = "off" disables it
  std::string data_dir;                  // database, keys, admin token
  // [instance] id: the lease holder's instance id; empty = the one stored
  // in <data_dir>/instance_id (daemon/instance_id.h).
  std::string instance_id;
  TlsConfig tls;
  // Peer domain -> where to reach it; unmapped domains use <domain>:443.
  std::map<std::string, HostPort> peers;
  std::vector<uint16_t> ciphersuites{1, 2, 3};
  PolicyConfig policy;
  RecoveryConfig recovery;
  DsConfig ds;
  StoreConfig store;
  uint64_t max_body_bytes = 64ull << 20;
  int server_threads = 16;
  // Threads that drive migrations (client inits, recovery, admin retries).
  // Each waits on the peer and on durable commits most of the time, and the
  // SQLite writer can only batch the commits of concurrent workers.
  int migration_workers = 16;
  // How long an idle keep-alive connection keeps its server thread; also
  // bounds how long a stop waits for idle connections to go.
  int keep_alive_seconds = 5;
  // Bounds every wait for a client of the public listener: each step of the
  // TLS handshake and each read of a request. A silent connection gives its
  // server thread back after this (then keep_alive_seconds bounds the wait
  // for its first request).
  int read_timeout_seconds = 5;
  std::string log_level = "info";
  // "text" for people, "json" (one object per line) for log shippers.
  std::string log_format = "text";

  // The address for a peer domain.
  HostPort PeerAddress(const std::string& peer_domain) const;
};

// Overrides from the command line; unset fields leave the file's value.
struct ConfigOverrides {
  std::optional<std::string> domain;
  std::optional<std::string> listen;
  std::optional<std::string> admin_listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;
  std::vector<std::string> peers;  // "domain=host:port"
};

// kInvalidArgument "config: <key>: <what>": how every config problem reads.
Status SettingError(std::string_view key, std::string_view what);

// Parses TOML text (file_name is for messages only), applies overrides and
// validates. Every failure is kInvalidArgument naming the setting.
Result<Config> ParseConfig(std::string_view toml_text,
                           const ConfigOverrides& overrides,
                           std::string_view file_name = "config");
Result<Config> LoadConfigFile(const std::string& path,
                              const ConfigOverrides& overrides);

// Every problem LoadConfigFile would refuse the file for, not just the first
// (for mimi-portd --check-config), each naming its setting; empty when it
// would load. An unreadable file, a TOML syntax error, an unknown key or a
// wrong type stops the reading, so it is the only problem then. `config`
// holds what was read.
std::vector<Status> ConfigFileProblems(const std::string& path,
                                       const ConfigOverrides& overrides,
                                       Config* config);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_CONFIG_H_
