#include "daemon/daemon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "admin_api/admin_paths.h"
#include "admin_api/admin_token.h"
#include "codec/safe_text.h"
#include "daemon/admin_routes.h"
#include "daemon/ds_from_config.h"
#include "daemon/ds_routes.h"
#include "daemon/http_server.h"
#include "daemon/instance_id.h"
#include "daemon/log_rate_limiter.h"
#include "daemon/metrics.h"
#include "daemon/protocol_options.h"
#include "daemon/protocol_routes.h"
#include "embedded_ds/embedded_ds.h"
#include "keys/ds_key_store.h"
#include "keys/peer_key_resolver.h"
#include "log/log.h"
#include "protocol/backoff.h"
#include "protocol/client_tokens.h"
#include "protocol/held_leases.h"
#include "protocol/holder_heartbeat.h"
#include "protocol/recovery_loop.h"
#include "protocol/source_service.h"
#include "protocol/target_service.h"
#include "store/pg/pg_store.h"
#include "store/sqlite_store.h"
#include "store/sqlite_writer.h"

namespace mimi::daemon {
namespace {

constexpr char kPeerRequests[] = "mimi_peer_requests_total";

// Counts every outbound protocol request by peer and outcome for /metrics.
class CountingTransport final : public protocol::PeerTransport {
 public:
  CountingTransport(protocol::PeerTransport& inner, Metrics& metrics)
      : inner_(inner), metrics_(metrics) {
    metrics_.DeclareCounter(kPeerRequests,
                            "Requests to peer DSs, by peer and outcome "
                            "(HTTP status, or 'unreachable').");
  }
  using protocol::PeerTransport::Post;
  Result<protocol::PeerResponse> Post(const std::string& domain,
                                      const std::string& path, const Bytes& body,
                                      const protocol::ProgressFn& progress) override {
    return Count(domain, path, inner_.Post(domain, path, body, progress));
  }
  Result<protocol::PeerResponse> PostStream(
      const std::string& domain, const std::string& path,
      const protocol::BodySource& body,
      const protocol::ProgressFn& progress) override {
    return Count(domain, path, inner_.PostStream(domain, path, body, progress));
  }

 private:
  Result<protocol::PeerResponse> Count(const std::string& domain,
                                       const std::string& path,
                                       Result<protocol::PeerResponse> r) {
    metrics_.IncCounter(kPeerRequests,
                        {{"peer", domain},
                         {"outcome", r.ok() ? std::to_string(r->status)
                                            : std::string("unreachable")}});
    // Unreachable includes TLS verification failures: a security event
    // when it is not an outage.
    if (!r.ok() && log_.Admit("peer-unreachable")) {
      log::Warn("peer {} {}: {}", codec::SafeText(domain, 253), path,
                codec::SafeText(r.status().detail()));
    }
    return r;
  }

  protocol::PeerTransport& inner_;
  Metrics& metrics_;
  LogRateLimiter log_{5, [] {
                        return std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now()
                                       .time_since_epoch())
                            .count();
                      }};
};

// Admin retry/abort act through the services.
class Actions final : public AdminActions {
 public:
  Actions(store::Store& store, protocol::SourceService& source,
          protocol::WorkQueue& workers)
      : store_(store), source_(source), workers_(workers) {}
  Status Retry(std::string_view id) override {
    MIMI_ASSIGN_OR_RETURN(auto rows, store_.GetById(id));
    if (rows.empty()) return NotFoundError("no migration " + std::string(id));
    for (const auto& row : rows) {
      if (store::IsTerminal(row.role, row.state)) continue;
      MIMI_RETURN_IF_ERROR(store_.ScheduleNow(id, row.role));
      if (row.role == store::Role::kSource) {
        std::string copy(id);
        workers_.Post([this, copy] { (void)source_.Drive(copy); });
      }
    }
    return Status::Ok();
  }
  Status Abort(std::string_view id) override {
    return source_.RequestAbort(std::string(id), "abort requested by the operator");
  }

 private:
  store::Store& store_;
  protocol::SourceService& source_;
  protocol::WorkQueue& workers_;
};

// store.backend = "postgresql": a pool of store.max_connections to
// store.url, the password from store.password_file or libpq's own sources.
// `pool` receives the store's pool, which the embedded DS shares.
Result<std::unique_ptr<store::Store>> OpenPostgresqlStore(
    const StoreConfig& config, const Clock& clock,
    std::shared_ptr<store::pg::PgPool>* pool) {
  store::pg::PgPoolOptions o;
  o.connect.url = config.url;
  if (!config.password_file.empty()) {
    MIMI_ASSIGN_OR_RETURN(o.connect.password,
                          store::pg::ReadPasswordFile(config.password_file));
  }
  o.max_connections = static_cast<int>(config.max_connections);
  MIMI_ASSIGN_OR_RETURN(std::unique_ptr<store::pg::PgStore> opened,
                        store::pg::PgStore::Open(o, clock));
  *pool = opened->pool();
  return std::unique_ptr<store::Store>(std::move(opened));
}

}  // namespace

struct Daemon::Parts {
  Config config;
  // First: everything below reads it, to the end of its destructor.
  std::unique_ptr<SteadyWallClock> steady_clock;
  const Clock* clock = nullptr;
  Metrics metrics;
  // The one write connection to mimi.db: the store and the embedded DS
  // write through it, so their writes share group commits. Null with
  // store.backend = "postgresql".
  std::shared_ptr<store::SqliteWriter> writer;
  // store.backend = "postgresql": the store's pool, which the embedded DS
  // shares. Null with SQLite.
  std::shared_ptr<store::pg::PgPool> pg_pool;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<embedded_ds::EmbeddedDs> ds;  // ds.mode = "embedded"
  std::unique_ptr<DeliveryService> external_ds;  // ds.mode = "http"
  std::unique_ptr<keys::DsKeyStore> keys;
  std::unique_ptr<keys::PeerKeyResolver> resolver;
  std::unique_ptr<protocol::HttpsPeerTransport> https;
  std::unique_ptr<CountingTransport> transport;
  std::unique_ptr<protocol::ClientTokens> client_tokens;
  std::unique_ptr<protocol::TransferProgress> transfers;
  protocol::ProtocolOptions protocol_options;
  std::unique_ptr<protocol::Backoff> backoff;
  // Before ctx and the workers, whose leases it tracks until they end.
  std::unique_ptr<protocol::HeldLeases> held_leases;
  protocol::ProtocolContext ctx;
  std::unique_ptr<protocol::WorkQueue> workers;
  std::unique_ptr<protocol::SourceService> source;
  std::unique_ptr<protocol::TargetService> target;
  std::unique_ptr<protocol::RecoveryLoop> recovery;
  // Held for the daemon's life: no second daemon on this data directory.
  std::optional<InstanceClaim> instance;
  store::LeaseHolder holder;
  std::unique_ptr<protocol::HolderHeartbeat> heartbeat;
  std::unique_ptr<Actions> actions;
  std::string admin_token;
  std::unique_ptr<HttpServer> public_server;
  std::unique_ptr<HttpServer> admin_server;
  bool stopped = false;
};

std::string Daemon::DatabasePath(const Config& config) {
  return (std::filesystem::path(config.data_dir) / admin_api::kDatabaseFile)
      .string();
}

Result<std::unique_ptr<Daemon>> Daemon::Create(const Config& config,
                                               const Clock& wall_clock,
                                               const Clock* monotonic) {
  auto p = std::make_unique<Parts>();
  p->config = config;
  // Every time the daemon reads: the wall clock, but never backwards
  // (docs/protocol.md §4 "Clocks").
  p->steady_clock = std::make_unique<SteadyWallClock>(
      wall_clock, monotonic != nullptr ? *monotonic : MonotonicClock::Get());
  const Clock& clock = *p->steady_clock;
  p->clock = &clock;
  // Before anything is created on disk: a refused config leaves no trace.
  MIMI_ASSIGN_OR_RETURN(p->protocol_options, ProtocolOptionsFromConfig(config));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return InvalidArgumentError("config: data_dir: cannot create " +
                                config.data_dir + ": " + ec.message());
  }
  ::chmod(config.data_dir.c_str(), 0700);
  // Before the database: a second daemon on this directory stops here.
  MIMI_ASSIGN_OR_RETURN(InstanceClaim claim,
                        InstanceClaim::Acquire(config.data_dir, config.instance_id));
  p->instance.emplace(std::move(claim));

  if (config.store.backend == "postgresql") {
    MIMI_ASSIGN_OR_RETURN(p->store,
                          OpenPostgresqlStore(config.store, clock, &p->pg_pool));
  } else {
    store::SqliteWriterOptions wo;
    wo.vfs = config.store.sqlite_vfs;
    MIMI_ASSIGN_OR_RETURN(p->writer,
                          store::SqliteWriter::Open(DatabasePath(config), wo));
    MIMI_ASSIGN_OR_RETURN(p->store, store::SqliteStore::Open(p->writer, clock));
  }
  // Resume from the latest time an earlier run wrote down: a wall clock set
  // back while the daemon was down must not give its nonces, leases and
  // retry times back the time that had passed.
  {
    MIMI_ASSIGN_OR_RETURN(auto holders, p->store->ListLeaseHolders());
    for (const auto& h : holders) {
      p->steady_clock->NotBefore(
          std::max(h.heartbeat_at, h.ended_at.value_or(0)));
    }
  }
  DeliveryService* ds = nullptr;
  if (config.ds.mode == "http") {
    MIMI_ASSIGN_OR_RETURN(p->external_ds,
                          CreateHttpDeliveryService(config, clock));
    ds = p->external_ds.get();
  } else {
    // In the store's database, through the store's writer or pool.
    if (p->pg_pool) {
      MIMI_ASSIGN_OR_RETURN(p->ds,
                            embedded_ds::EmbeddedDs::Open(p->pg_pool, clock));
    } else {
      MIMI_ASSIGN_OR_RETURN(p->ds,
                            embedded_ds::EmbeddedDs::Open(p->writer, clock));
    }
    p->ds->SetMaxGroupIdBytes(static_cast<size_t>(config.ds.max_group_id_bytes));
    ds = p->ds.get();
  }
  MIMI_ASSIGN_OR_RETURN(
      p->keys, keys::DsKeyStore::Open(std::filesystem::path(config.data_dir) / "keys",
                                      config.ciphersuites, clock));

  std::map<std::string, keys::PeerAddress> peers;
  for (const auto& [domain, hp] : config.peers) peers[domain] = {hp.host, hp.port};
  // The resolver and the transport reach a peer the same way: its mapped
  // address, with TLS checked against its domain (keys/peer_client.h).
  const keys::PeerLocator locator = keys::MappedPeerLocator(peers);
  keys::PeerKeyResolverOptions ro;
  ro.locator = locator;
  ro.ca_bundle_path = config.tls.ca_file;
  p->resolver = std::make_unique<keys::PeerKeyResolver>(ro, clock);

  protocol::HttpsPeerTransportOptions to;
  to.client.locator = locator;
  to.client.plain_http = config.tls.insecure_plain_http;
  to.client.ca_file = config.tls.ca_file;
  // Every worker may hold a connection to the same peer at once.
  to.max_idle_per_peer = static_cast<size_t>(config.migration_workers);
  p->https = std::make_unique<protocol::HttpsPeerTransport>(to);
  p->transport = std::make_unique<CountingTransport>(*p->https, p->metrics);
  p->client_tokens = std::make_unique<protocol::ClientTokens>(
      std::filesystem::path(config.data_dir) / "client_tokens");
  MIMI_ASSIGN_OR_RETURN(p->admin_token,
                        admin_api::LoadOrCreateAdminToken(config.data_dir));

  p->ctx.domain = config.domain;
  p->backoff = std::make_unique<protocol::Backoff>(
      p->protocol_options.recovery.backoff, clock, protocol::ThreadLocalUnitRandom);
  p->ctx.options = &p->protocol_options;
  p->ctx.backoff = p->backoff.get();
  p->ctx.store = p->store.get();
  p->ctx.ds = ds;
  // The embedded DS writes through the store's own writer or pool, so its
  // writes can join the store's transactions.
  if (p->ds && config.ds.join_store_transactions)
    p->ctx.joined_ds = p->ds.get();
  p->ctx.keys = p->keys.get();
  p->ctx.resolver = p->resolver.get();
  p->ctx.transport = p->transport.get();
  p->ctx.client_tokens = p->client_tokens.get();
  p->ctx.clock = &clock;
  p->transfers = std::make_unique<protocol::TransferProgress>(clock);
  p->ctx.progress = p->transfers.get();
  // A new incarnation; the earlier ones of this instance are dead by now
  // (the claim above), and their leases are taken over by the first scan.
  {
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    MIMI_ASSIGN_OR_RETURN(
        p->holder,
        p->store->RegisterLeaseHolder(p->instance->id(), host, getpid(),
                                      p->protocol_options.recovery.heartbeat_timeout_ms));
  }
  p->ctx.lease_holder = p->holder.holder_id;
  p->held_leases = std::make_unique<protocol::HeldLeases>(clock);
  p->ctx.held_leases = p->held_leases.get();
  p->heartbeat = std::make_unique<protocol::HolderHeartbeat>(
      *p->store, p->holder.holder_id, p->protocol_options.recovery.heartbeat_ms,
      p->protocol_options.recovery.heartbeat_timeout_ms);

  p->workers = std::make_unique<protocol::WorkQueue>(
      static_cast<size_t>(config.migration_workers));
  {
    const protocol::WorkQueue* workers = p->workers.get();
    p->metrics.AddCollectedCounter(
        "mimi_work_queue_jobs_total",
        "Jobs handed from a request or recovery thread to a migration worker.",
        [workers] {
          return std::vector<Sample>{
              {{}, static_cast<double>(workers->Posted())}};
        });
  }
  p->source = std::make_unique<protocol::SourceService>(p->ctx, *p->workers);
  p->target = std::make_unique<protocol::TargetService>(p->ctx);
  p->recovery = std::make_unique<protocol::RecoveryLoop>(p->ctx, *p->source,
                                                         *p->target, *p->workers);
  p->actions = std::make_unique<Actions>(*p->store, *p->source, *p->workers);

  // Gauges read the store at scrape time.
  store::Store* store = p->store.get();
  p->metrics.AddGauge("mimi_migrations", "Migrations by role and state.", [store] {
    std::vector<Sample> out;
    auto counts = store->CountByState();
    if (!counts.ok()) return out;
    for (const auto& c : *counts) {
      out.push_back({{{"role", std::string(store::RoleName(c.role))},
                      {"state", std::string(store::StateName(c.state))}},
                     static_cast<double>(c.count)});
    }
    return out;
  });
  p->metrics.AddGauge("mimi_oldest_unfinished_migration_seconds",
                      "Age of the oldest migration not in a terminal state "
                      "(0 when none).",
                      [store] {
                        auto age = store->OldestUnfinishedAgeMillis();
                        double v = age.ok() && *age ? **age / 1000.0 : 0.0;
                        return std::vector<Sample>{{{}, v}};
                      });
  p->metrics.AddGauge("mimi_stalled_migrations",
                      "Migrations past recovery.max_attempts, still retried.",
                      [store] {
                        // A count, not a capped list of whole rows.
                        auto n = store->CountStalled();
                        double v = n.ok() ? static_cast<double>(*n) : 0;
                        return std::vector<Sample>{{{}, v}};
                      });
  const protocol::RecoveryLoop* recovery = p->recovery.get();
  p->metrics.AddCollectedCounter(
      "mimi_leases_reclaimed_total",
      "Unexpired leases of dead lease holders (an earlier incarnation of this "
      "instance, or a holder whose heartbeat lapsed) taken over by recovery.",
      [recovery] {
        return std::vector<Sample>{
            {{}, static_cast<double>(recovery->stats().reclaimed_total)}};
      });
  p->metrics.AddCollectedCounter(
      "mimi_lease_releases_retried_total",
      "This process's own leases whose release had failed, released by a "
      "later recovery scan.",
      [recovery] {
        return std::vector<Sample>{
            {{},
             static_cast<double>(recovery->stats().releases_retried_total)}};
      });
  p->metrics.AddGauge(
      "mimi_leases_held_long",
      "Leases one driver of this process has held for longer than half the "
      "lease (at most a minute): stuck drivers, or very large transfers.",
      [recovery] {
        return std::vector<Sample>{
            {{}, static_cast<double>(recovery->stats().held_long)}};
      });
  const SteadyWallClock* steady = p->steady_clock.get();
  p->metrics.AddGauge(
      "mimi_clock_ahead_of_wall_seconds",
      "How far the daemon's clock is ahead of the system's wall clock: 0 "
      "unless the wall clock stepped back, which the daemon does not follow.",
      [steady] {
        return std::vector<Sample>{
            {{}, static_cast<double>(steady->AheadOfWallMillis()) / 1000.0}};
      });
  // The SQLite writer's counters; PostgreSQL commits are the server's to
  // count (pg_stat_database).
  if (const store::SqliteWriter* writer = p->writer.get()) {
    // Group commit at work: writes per commit = jobs / commits.
    p->metrics.AddCollectedCounter(
        "mimi_store_write_jobs_total",
        "Durable writes (store and embedded DS) run by the SQLite writer.", [writer] {
          return std::vector<Sample>{{{}, static_cast<double>(writer->Stats().jobs)}};
        });
    p->metrics.AddCollectedCounter(
        "mimi_store_commits_total",
        "SQLite transactions committed by the writer (one fsync each; several "
        "writes share one under load).",
        [writer] {
          return std::vector<Sample>{{{}, static_cast<double>(writer->Stats().commits)}};
        });
    // Store errors for alerting: a transaction that could not begin or commit
    // (disk full, I/O error, lock timeout) lost every write of its batch.
    // Failed jobs alone are not counted here: a compare-and-set that does not
    // match is a normal outcome.
    p->metrics.AddCollectedCounter(
        "mimi_store_commits_failed_total",
        "SQLite transactions of the writer that failed to begin or commit "
        "(every write of the batch failed with it).",
        [writer] {
          return std::vector<Sample>{
              {{}, static_cast<double>(writer->Stats().commits_failed)}};
        });
    // The disk refusing writes (docs/operations.md, "When the disk fills or
    // fails"): new work is answered 503 storage-unavailable meanwhile.
    p->metrics.AddCollectedCounter(
        "mimi_store_storage_errors_total",
        "SQLite transactions that failed because the disk was full or "
        "answered an I/O error (nothing of them was stored).",
        [writer] {
          return std::vector<Sample>{
              {{}, static_cast<double>(writer->Stats().storage_errors)}};
        });
    // The write connection's statement cache: flat once every statement of
    // the hot path has been prepared (store/sqlite_statement_cache.h).
    p->metrics.AddCollectedCounter(
        "mimi_store_statements_prepared_total",
        "SQL statements the writer's connection prepared into its cache (the "
        "hot path reuses them).",
        [writer] {
          return std::vector<Sample>{
              {{}, static_cast<double>(writer->Stats().statements_prepared)}};
        });
    p->metrics.AddGauge(
        "mimi_store_storage_failing",
        "1 while the disk refuses writes (from a failed transaction until the "
        "next that changes a row commits), else 0.",
        [writer] {
          return std::vector<Sample>{
              {{}, writer->Storage().failing ? 1.0 : 0.0}};
        });
  }

  HttpServerOptions po;
  po.name = "public";
  po.listen = config.listen;
  // Behind a TLS-terminating proxy the listener is on loopback (config.cc).
  po.plain_http =
      config.tls.insecure_plain_http || config.tls.terminated_by_proxy;
  po.cert_file = config.tls.cert_file;
  po.key_file = config.tls.key_file;
  po.threads = config.server_threads;
  po.max_body_bytes = config.max_body_bytes;
  po.keep_alive_timeout = std::chrono::seconds(config.keep_alive_seconds);
  po.read_timeout = std::chrono::seconds(config.read_timeout_seconds);
  MIMI_ASSIGN_OR_RETURN(p->public_server, HttpServer::Create(po, &p->metrics));
  HttpServer& pub = *p->public_server;
  Metrics* metrics = &p->metrics;
  const store::SqliteWriter* health_writer = p->writer.get();
  pub.Get("/healthz", [store, health_writer](const httplib::Request&,
                                             httplib::Response& res) {
    auto counts = store->CountByState();
    if (!counts.ok()) return ReplyError(res, counts.status());
    // Still 200: the daemon runs, reads and finishes what it can; new work
    // is refused with 503 until the disk takes writes again.
    if (health_writer != nullptr) {
      const store::StorageHealth storage = health_writer->Storage();
      if (storage.failing) {
        return ReplyJson(res, 200,
                         {{"status", "degraded"},
                          {"storage", std::string(storage.problem)},
                          {"storage_failing_since_ms", storage.failing_since_ms}});
      }
    }
    ReplyJson(res, 200, {{"status", "ok"}});
  });
  pub.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->Render(), "text/plain; version=0.0.4");
  });
  RegisterProtocolRoutes(pub, p->ctx, *p->source, *p->target, {});
  // Members of an external DS talk to that DS, not to us.
  if (p->ds) RegisterDsRoutes(pub, *p->ds, p->client_tokens.get());

  if (config.admin_enabled) {
    HttpServerOptions ao;
    ao.name = "admin";
    ao.listen = config.admin_listen;
    ao.plain_http = true;  // loopback only; the token guards it
    ao.threads = 4;
    ao.max_body_bytes = 1 << 20;
    // The operator's own listener: 503 details help and leak nothing new.
    ao.redact_unavailable_details = false;
    MIMI_ASSIGN_OR_RETURN(p->admin_server, HttpServer::Create(ao, &p->metrics));
    RegisterAdminRoutes(*p->admin_server, *p->store, p->admin_token,
                        p->actions.get(), clock, p->transfers.get());
  }
  return std::unique_ptr<Daemon>(new Daemon(std::move(p)));
}

Daemon::Daemon(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Daemon::~Daemon() { Stop(); }

Result<DaemonPorts> Daemon::Start() {
  DaemonPorts ports;
  MIMI_RETURN_IF_ERROR(parts_->public_server->Start());
  ports.public_port = parts_->public_server->port();
  if (parts_->admin_server) {
    MIMI_RETURN_IF_ERROR(parts_->admin_server->Start());
    ports.admin_port = parts_->admin_server->port();
  }
  parts_->heartbeat->Start();
  parts_->recovery->Start();
  log::Info("{}: serving as lease holder {} (pid {}); recovery loop every {} ms",
            parts_->config.domain, parts_->holder.holder_id, getpid(),
            parts_->config.recovery.scan_interval_ms);
  return ports;
}

void Daemon::Stop() {
  if (!parts_ || parts_->stopped) return;
  parts_->stopped = true;
  if (parts_->public_server) parts_->public_server->Stop();
  if (parts_->admin_server) parts_->admin_server->Stop();
  parts_->recovery->Stop();
  parts_->workers->Shutdown();
  parts_->heartbeat->Stop();
  // Its leases are released; ended, the holder is dead at once for peers.
  if (!parts_->heartbeat->superseded()) {
    Status s = parts_->store->EndLeaseHolder(parts_->holder.holder_id);
    if (!s.ok()) log::Warn("ending lease holder: {}", s.ToString());
  }
}

}  // namespace mimi::daemon
