// mimi-bench-throughput: N complete migrations (request at the target, init
// with a tagged commit at the source, content to the target, confirmation
// verified by the client) between two mimi-portd daemons over HTTPS, with C
// client threads; migrations/s and latency percentiles.
//
// Beside it, in the same run, the floor: a bare harness of two plain
// httplib HTTPS servers on the same certificates that does per migration the
// same HTTPS round trips (client -> target, client -> source, source ->
// target inside the source's handler), the same signatures and
// verifications with the same scheme, and the protocol's minimum of durable
// work: 6 single-row commits (target: the nonce issued, the group imported;
// source: the row created with the group frozen, the content sent, the
// migration confirmed, the group purged), each an INSERT in its own
// transaction at synchronous=FULL. No state machine, no parsing, no group
// commit. The coordinator's own commits, writes and thread hand-offs per
// migration are printed beside it. Coordinator and floor take turns, ROUNDS
// times each (default 3), and the median of the rounds' ratios is reported.
//
//   mimi-bench-throughput [--dir DIR] [--migrations N] [--concurrency C]
//                         [--suite S] [--rounds R]
//                         [--backend sqlite|postgresql|both] [--pg-url URL]
//                         [--separate-ds-writes]
//
// --backend (issue 18 item 6): `sqlite` (the default) is the run above.
// `postgresql` runs the same migrations with both daemons' stores and
// embedded DSs on PostgreSQL (each domain a schema of its own on the server
// at --pg-url, or MIMI_TEST_PG_URL; tools/bench starts one when neither is
// given), first with one source instance, then with two source instances
// (two Daemons with the same domain, keys and schema) behind an in-process
// round robin: each client sends its inits to the instances in turn, as a
// load balancer would. `both` runs SQLite first, then the two PostgreSQL
// configurations, and prints one row per configuration: migrations/s,
// latency, CPU per migration of this process and of the PostgreSQL server's
// processes (read from /proc: the server must be on this machine), and
// commits / writes / hand-offs per migration where they apply (the writer
// counters are SQLite's). The floor is not run in this mode.
//
// The daemons run in this process (one Daemon each, as mimi-portd builds
// them), so the client's CPU is on the same 2 cores as in a real test box.
// DIR decides the disk (the daemons' databases, the floor's files); all of it
// is removed afterwards.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <httplib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/labeled_signature.h"
#include "crypto/message_signing.h"
#include "crypto/signing_key.h"
#include "daemon/daemon.h"
#include "keys/ds_key_store.h"
#include "log/log.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/endpoints.h"
#include "mimi_portability/messages.h"
#include "store/pg/pg_connection.h"
#include "testing/ds_member.h"
#include "testing/loopback_port.h"
#include "testing/synthetic_mls.h"
#include "testing/two_daemons.h"

namespace mimi::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kEpoch = 5;
using endpoints::kInitPath;
using endpoints::kMediaType;
using endpoints::kRequestPath;

struct Options {
  std::string dir = ".";
  int migrations = 2000;
  int concurrency = 16;
  uint16_t suite = 1;
  int rounds = 3;
  std::string backend = "sqlite";  // sqlite | postgresql | both
  std::string pg_url;              // admin URL of a PostgreSQL server
  // ds.join_store_transactions = false: the DS writes in transactions of
  // its own (the path before issue 17 item 2), for an A/B in one build.
  bool separate_ds_writes = false;
};

struct RunResult {
  double seconds = 0;
  double cpu_seconds = 0;  // user + system of the whole process
  std::vector<double> latency_ms;
  int failures = 0;
  std::string first_failure;
};

std::unique_ptr<httplib::Client> Client(const std::string& ca_file, uint16_t port) {
  auto c = std::make_unique<httplib::Client>("https://127.0.0.1:" + std::to_string(port));
  c->set_ca_cert_path(ca_file.c_str());
  c->enable_server_certificate_verification(true);
  c->set_tcp_nodelay(true);
  c->set_keep_alive(true);
  c->set_read_timeout(std::chrono::seconds(60));
  return c;
}

struct WriteCounts {
  uint64_t source_jobs = 0, source_commits = 0;
  uint64_t target_jobs = 0, target_commits = 0;
  uint64_t worker_jobs = 0;  // both daemons' work queues
};

// One sample of the daemon's /metrics ("name value" line without labels).
uint64_t MetricValue(const std::string& text, const std::string& name) {
  size_t at = 0;
  while ((at = text.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      return static_cast<uint64_t>(std::stod(text.substr(at + name.size() + 1)));
    }
    at += name.size();
  }
  return 0;
}

// `more_sources`: the ports of further source instances, whose work queues
// count too.
WriteCounts ReadWriteCounts(const testing::TwoDaemons& d,
                            const std::vector<uint16_t>& more_sources = {}) {
  WriteCounts w;
  for (uint16_t port : more_sources) {
    auto c = Client(d.ca_file(), port);
    auto r = c->Get("/metrics");
    w.worker_jobs += MetricValue(r ? r->body : "", "mimi_work_queue_jobs_total");
  }
  for (bool source : {true, false}) {
    auto c = Client(d.ca_file(), source ? d.source_port() : d.target_port());
    auto r = c->Get("/metrics");
    const std::string text = r ? r->body : "";
    const uint64_t jobs = MetricValue(text, "mimi_store_write_jobs_total");
    const uint64_t commits = MetricValue(text, "mimi_store_commits_total");
    (source ? w.source_jobs : w.target_jobs) = jobs;
    (source ? w.source_commits : w.target_commits) = commits;
    w.worker_jobs += MetricValue(text, "mimi_work_queue_jobs_total");
  }
  return w;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Runs `one(i)` for i in [0, n) on `threads` threads, timing each call.
template <typename F>
RunResult RunParallel(int n, int threads, F& one) {
  RunResult r;
  r.latency_ms.resize(n);
  std::atomic<int> next{0};
  std::mutex mu;
  const double cpu_start = CpuSeconds();
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto ctx = one.MakeThreadContext(t);
      for (int i = next++; i < n; i = next++) {
        const auto t0 = Clock::now();
        Status s = one.Run(ctx, i);
        r.latency_ms[i] = MillisSince(t0);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (r.failures++ == 0) r.first_failure = s.ToString();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.cpu_seconds = CpuSeconds() - cpu_start;
  return r;
}

// ---- the coordinator ------------------------------------------------------

class Coordinator {
 public:
  Coordinator(const Options& o, testing::TwoDaemons& d, crypto::SignatureScheme scheme)
      : o_(o),
        d_(d),
        member_(crypto::SigningKey::Generate(scheme).value()),
        source_key_(SourcePublicKey(d, o.suite)) {}

  // What the client checks the confirmation with (a member would fetch the
  // key document; the bench reads the source's key store directly).
  static crypto::PublicKey SourcePublicKey(testing::TwoDaemons& d, uint16_t suite) {
    auto keys = keys::DsKeyStore::OpenExisting(
        std::filesystem::path(d.source_config().data_dir) / "keys", SystemClock::Get());
    return keys.value()->SigningKeyFor(suite).value()->public_key();
  }

  Bytes GroupId(int i) const {
    char buf[48];
    std::snprintf(buf, sizeof buf, "bench-group-%08d-%s", i, run_tag_.c_str());
    return ToBytes(buf);
  }

  // Creates groups [from, to) on the source's DS (not timed).
  Status CreateGroups(int from, int to) {
    const std::vector<testing::SyntheticMember> members = {
        {"alice", member_.public_key().encoded()},
        {"bob", member_.public_key().encoded()},
        {"carol", member_.public_key().encoded()}};
    const Bytes tree_bytes = testing::SyntheticRatchetTree(o_.suite, members);
    const std::string tree = ToHex(tree_bytes);
    struct Make {
      Coordinator* self;
      std::string tree;
      Bytes tree_bytes;
      std::unique_ptr<httplib::Client> MakeThreadContext(int) {
        return Client(self->d_.ca_file(), self->d_.source_port());
      }
      Status Run(std::unique_ptr<httplib::Client>& c, int i) {
        json create = {
            {"group_info",
             ToHex(testing::SyntheticGroupInfo(self->o_.suite, self->GroupId(i), kEpoch,
                                               tree_bytes, 0, self->member_))},
            {"ratchet_tree", tree}};
        auto r =
            c->Post("/ds/v1/groups",
                    testing::ClientTokenHeaders(self->d_.source_client_token()),
                    mimi::codec::DumpJson(create), "application/json");
        if (!r || r->status != 201) {
          return InternalError("create group: " +
                               (r ? r->body : httplib::to_string(r.error())));
        }
        return Status::Ok();
      }
    };
    struct Offset {
      Make make;
      int from;
      auto MakeThreadContext(int t) { return make.MakeThreadContext(t); }
      Status Run(std::unique_ptr<httplib::Client>& c, int i) {
        return make.Run(c, from + i);
      }
    };
    Offset job{{this, tree, tree_bytes}, from};
    RunResult r = RunParallel(to - from, o_.concurrency, job);
    if (r.failures) return InternalError(r.first_failure);
    return Status::Ok();
  }

  struct Thread {
    std::vector<std::unique_ptr<httplib::Client>> sources;
    std::unique_ptr<httplib::Client> target;
  };
  Thread MakeThreadContext(int) {
    Thread t;
    for (uint16_t port : source_ports_) t.sources.push_back(Client(d_.ca_file(), port));
    t.target = Client(d_.ca_file(), d_.target_port());
    return t;
  }
  // The source instances' ports, which inits go to in turn (a load
  // balancer's round robin); by default the one source.
  void set_source_ports(std::vector<uint16_t> ports) { source_ports_ = std::move(ports); }

  // One migration as a member does it, ending with a verified confirmation.
  Status Run(Thread& t, int i) {
    const Bytes group = GroupId(offset_ + i);
    MigrationRequest request{ToBytes("source.test"), ToBytes("target.test"), group,
                             kEpoch};
    MIMI_ASSIGN_OR_RETURN(Bytes request_bytes, Encode(request));
    httplib::Headers headers = {{"MIMI-Cipher-Suite", std::to_string(o_.suite)},
                                {"Authorization", "Bearer " + d_.client_token()}};
    auto a = t.target->Post(kRequestPath, headers,
                            reinterpret_cast<const char*>(request_bytes.data()),
                            request_bytes.size(), kMediaType);
    if (!a || a->status != 200) {
      return InternalError("request: " + (a ? a->body : httplib::to_string(a.error())));
    }
    MIMI_ASSIGN_OR_RETURN(MigrationResponse response,
                          Decode<MigrationResponse>(ToBytes(a->body)));
    MigrationInit init{std::move(response), {}};
    MIMI_RETURN_IF_ERROR(crypto::SignMessage(member_, &init));
    Bytes commit = testing::SyntheticPublicCommit(
        group, kEpoch, 1, *Encode(MigrationCommitAAD{ToBytes("target.test")}));
    MIMI_ASSIGN_OR_RETURN(Bytes init_bytes,
                          Encode(MigrationInitRequest{init, 1, std::move(commit)}));
    auto b = t.sources[static_cast<size_t>(i) % t.sources.size()]->Post(kInitPath, reinterpret_cast<const char*>(init_bytes.data()),
                            init_bytes.size(), kMediaType);
    if (!b || b->status != 200) {
      return InternalError("init: " + (b ? std::to_string(b->status) + " " + b->body
                                         : httplib::to_string(b.error())));
    }
    MIMI_ASSIGN_OR_RETURN(MigrationConfirmation confirmation,
                          Decode<MigrationConfirmation>(ToBytes(b->body)));
    return crypto::VerifyMessage(source_key_, confirmation);
  }

  void set_offset(int offset) { offset_ = offset; }

 private:
  const Options& o_;
  testing::TwoDaemons& d_;
  crypto::SigningKey member_;
  crypto::PublicKey source_key_;
  std::string run_tag_ = std::to_string(::getpid());
  int offset_ = 0;
  std::vector<uint16_t> source_ports_{d_.source_port()};
};

// ---- the floor ------------------------------------------------------------

// One SQLite file written the bare way: one connection, one single-row
// INSERT per durable commit.
class BareDb {
 public:
  explicit BareDb(const std::string& path)
      : db_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("PRAGMA synchronous = FULL");
    db_.exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB)");
  }
  void Commits(int n, size_t bytes) {
    const std::string v(bytes, 'x');
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < n; ++i) {
      db_.exec("BEGIN IMMEDIATE");
      SQLite::Statement ins(db_, "INSERT INTO t (v) VALUES (?)");
      ins.bind(1, v.data(), static_cast<int>(v.size()));
      ins.exec();
      db_.exec("COMMIT");
    }
  }

 private:
  std::mutex mu_;
  SQLite::Database db_;
};

struct FloorPlan {
  int source_commits_before_send = 0;  // at /init, before the content goes
  int source_commits_after_send = 0;
  int target_commits_request = 0;
  int target_commits_content = 0;
  size_t content_bytes = 0;
};

class Floor {
 public:
  Floor(const Options& o, testing::TwoDaemons& d, crypto::SignatureScheme scheme,
        const FloorPlan& plan)
      : o_(o),
        plan_(plan),
        ca_file_(d.ca_file()),
        source_db_((std::filesystem::path(o.dir) / "floor-source.db").string()),
        target_db_((std::filesystem::path(o.dir) / "floor-target.db").string()),
        source_key_(crypto::SigningKey::Generate(scheme).value()),
        target_key_(crypto::SigningKey::Generate(scheme).value()),
        member_key_(crypto::SigningKey::Generate(scheme).value()),
        source_(d.source_config().tls.cert_file.c_str(),
                d.source_config().tls.key_file.c_str()),
        target_(d.target_config().tls.cert_file.c_str(),
                d.target_config().tls.key_file.c_str()) {
    for (httplib::SSLServer* s : {&source_, &target_}) {
      s->set_tcp_nodelay(true);
      // httplib closes a connection after 5 requests or 5 idle seconds by
      // default, and a pooled client racing that close fails its write; the
      // floor has no retries, so its connections simply stay open.
      s->set_keep_alive_max_count(100000);
      s->set_keep_alive_timeout(60);
      s->new_task_queue = [n = 3 * o.concurrency + 8] {
        return new httplib::ThreadPool(static_cast<size_t>(n));
      };
    }
    target_.Post("/request", [this](const httplib::Request& req, httplib::Response& res) {
      target_db_.Commits(plan_.target_commits_request, 64);
      Bytes sig = Sign(target_key_, req.body);
      res.set_content(std::string(req.body) + ToString(sig), kMediaType);
    });
    target_.Post("/content", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string& body = req.body;  // content || source signature
      const size_t sig_len = body.size() - plan_.content_bytes;
      if (!Verify(source_key_, body.substr(0, plan_.content_bytes),
                  body.substr(plan_.content_bytes, sig_len))) {
        res.status = 400;
        return;
      }
      target_db_.Commits(plan_.target_commits_content, plan_.content_bytes);
      res.set_content(ToString(Sign(target_key_, "complete")), kMediaType);
    });
    source_.Post("/init", [this](const httplib::Request& req, httplib::Response& res) {
      // init = response || target signature || member signature, checked both.
      const std::string& body = req.body;
      const size_t sig = SigLen(target_key_);
      const std::string response = body.substr(0, body.size() - sig - SigLen(member_key_));
      const std::string target_sig = body.substr(response.size(), sig);
      const std::string member_sig = body.substr(response.size() + sig);
      if (!Verify(target_key_, response, target_sig) ||
          !Verify(member_key_, response + target_sig, member_sig)) {
        res.status = 400;
        return;
      }
      source_db_.Commits(plan_.source_commits_before_send, 256);
      std::string content(plan_.content_bytes, 'c');
      const std::string content_sig = ToString(Sign(source_key_, content));
      auto client = CheckoutPeer();
      auto answer = client->Post("/content", content + content_sig, kMediaType);
      if (!answer || answer->status != 200 ||
          !Verify(target_key_, "complete", answer->body)) {
        res.status = 502;
        res.set_content(answer ? "content: " + std::to_string(answer->status)
                               : "content: " + httplib::to_string(answer.error()),
                        "text/plain");
        return;
      }
      ReturnPeer(std::move(client));
      source_db_.Commits(plan_.source_commits_after_send, 256);
      res.set_content(ToString(Sign(source_key_, "confirmation")), kMediaType);
    });
    source_port_ = static_cast<uint16_t>(source_.bind_to_any_port("127.0.0.1"));
    target_port_ = static_cast<uint16_t>(target_.bind_to_any_port("127.0.0.1"));
    source_thread_ = std::thread([this] { source_.listen_after_bind(); });
    target_thread_ = std::thread([this] { target_.listen_after_bind(); });
    for (auto* s : {&source_, &target_}) {
      while (!s->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~Floor() {
    source_.stop();
    target_.stop();
    source_thread_.join();
    target_thread_.join();
  }

  struct Thread {
    std::unique_ptr<httplib::Client> source, target;
  };
  Thread MakeThreadContext(int) {
    return {Client(ca_file_, source_port_), Client(ca_file_, target_port_)};
  }

  Status Run(Thread& t, int i) {
    const std::string request = "request-" + std::to_string(i) + std::string(80, 'r');
    auto a = t.target->Post("/request", request, kMediaType);
    if (!a || a->status != 200) return InternalError("floor request");
    const std::string& response = a->body;  // request || target signature
    const std::string member_sig = ToString(Sign(member_key_, response));
    auto b = t.source->Post("/init", response + member_sig, kMediaType);
    if (!b || b->status != 200) {
      return InternalError("floor init: " + (b ? std::to_string(b->status) + " " + b->body
                                               : httplib::to_string(b.error())));
    }
    if (!Verify(source_key_, "confirmation", b->body)) {
      return InternalError("floor confirmation");
    }
    return Status::Ok();
  }

 private:
  static std::string ToString(const Bytes& b) { return std::string(b.begin(), b.end()); }
  static Bytes Sign(const crypto::SigningKey& key, std::string_view data) {
    return crypto::SignWithLabel(key, "Floor", ToBytes(data)).value();
  }
  static bool Verify(const crypto::SigningKey& key, std::string_view data,
                     std::string_view sig) {
    return crypto::VerifyWithLabel(key.public_key(), "Floor", ToBytes(data), ToBytes(sig))
        .ok();
  }
  // Ed25519 signatures have one length; ECDSA DER ones vary, so this floor
  // sticks to fixed-length schemes (suite 1 and 3 by default).
  static size_t SigLen(const crypto::SigningKey& key) { return Sign(key, "x").size(); }

  std::unique_ptr<httplib::Client> CheckoutPeer() {
    {
      std::lock_guard<std::mutex> lock(peer_mu_);
      if (!peers_.empty()) {
        auto c = std::move(peers_.back());
        peers_.pop_back();
        return c;
      }
    }
    return Client(ca_file_, target_port_);
  }
  void ReturnPeer(std::unique_ptr<httplib::Client> c) {
    std::lock_guard<std::mutex> lock(peer_mu_);
    peers_.push_back(std::move(c));
  }

  const Options& o_;
  const FloorPlan plan_;
  const std::string ca_file_;
  BareDb source_db_, target_db_;
  crypto::SigningKey source_key_, target_key_, member_key_;
  httplib::SSLServer source_, target_;
  uint16_t source_port_ = 0, target_port_ = 0;
  std::thread source_thread_, target_thread_;
  std::mutex peer_mu_;
  std::vector<std::unique_ptr<httplib::Client>> peers_;
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--dir") {
      o.dir = value();
    } else if (a == "--migrations") {
      o.migrations = std::stoi(value());
    } else if (a == "--concurrency") {
      o.concurrency = std::stoi(value());
    } else if (a == "--suite") {
      o.suite = static_cast<uint16_t>(std::stoi(value()));
    } else if (a == "--rounds") {
      o.rounds = std::max(1, std::stoi(value()));
    } else if (a == "--backend") {
      o.backend = value();
      if (o.backend != "sqlite" && o.backend != "postgresql" && o.backend != "both") {
        std::fprintf(stderr, "--backend: sqlite, postgresql or both\n");
        std::exit(2);
      }
    } else if (a == "--pg-url") {
      o.pg_url = value();
    } else if (a == "--separate-ds-writes") {
      o.separate_ds_writes = true;
    } else if (a == "--build") {
      value();  // tools/bench passes it to every scenario; not needed here
    } else {
      std::fprintf(stderr,
                   "usage: mimi-bench-throughput [--dir DIR] [--migrations N] "
                   "[--concurrency C] [--suite 1|3] [--rounds R] "
                   "[--backend sqlite|postgresql|both] [--pg-url URL] "
                   "[--separate-ds-writes]\n");
      std::exit(2);
    }
  }
  return o;
}

// ---- store backends side by side (--backend postgresql|both) --------------

// CPU seconds so far of each process of the PostgreSQL server that
// pg_stat_activity lists (backends and background processes), read from
// /proc: the server must run on this machine.
std::map<int, double> PgServerCpu(store::pg::PgConnection& admin) {
  std::map<int, double> out;
  auto r = admin.Exec("bench: server processes", "SELECT pid FROM pg_stat_activity");
  if (!r.ok()) return out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (int i = 0; i < r->rows(); ++i) {
    const std::string pid = r->Text(i, 0);
    std::ifstream in("/proc/" + pid + "/stat");
    const std::string stat((std::istreambuf_iterator<char>(in)), {});
    const size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 > stat.size()) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> v;
    for (std::string f; fields >> f;) v.push_back(f);
    // After the name: field 3 (state) is v[0]; utime and stime are fields
    // 14 and 15.
    if (v.size() < 13) continue;
    out[std::stoi(pid)] = (std::stod(v[11]) + std::stod(v[12])) / tick;
  }
  return out;
}

// The server's CPU between two samples; processes that ended in between
// are not counted (the daemons' pools keep their connections).
double PgServerCpuSince(const std::map<int, double>& before,
                        const std::map<int, double>& after) {
  double sum = 0;
  for (const auto& [pid, cpu] : after) {
    auto it = before.find(pid);
    sum += cpu - (it == before.end() ? 0 : it->second);
  }
  return sum;
}

// A schema of its own per domain on the server, dropped at the end.
class BenchSchemas {
 public:
  static Result<std::unique_ptr<BenchSchemas>> Create(const std::string& admin_url) {
    std::unique_ptr<BenchSchemas> s(new BenchSchemas(admin_url));
    MIMI_ASSIGN_OR_RETURN(auto admin, store::pg::PgConnection::Open({admin_url, "", 10}));
    for (const char* domain : {"source", "target"}) {
      const std::string name =
          "mimi_bench_" + std::to_string(::getpid()) + "_" + domain;
      MIMI_ASSIGN_OR_RETURN(auto r, admin->Exec("bench: create schema",
                                                "DROP SCHEMA IF EXISTS " + name +
                                                    " CASCADE; CREATE SCHEMA " + name));
      (void)r;
      s->names_.push_back(name);
    }
    return s;
  }
  ~BenchSchemas() {
    auto admin = store::pg::PgConnection::Open({admin_url_, "", 10});
    if (!admin.ok()) return;
    for (const std::string& name : names_) {
      (void)(*admin)->Exec("bench: drop schema", "DROP SCHEMA IF EXISTS " + name + " CASCADE");
    }
  }
  // The URL a daemon of `domain` ("source.test", "target.test") uses.
  std::string Url(const std::string& domain) const {
    const std::string& name = names_[domain == "source.test" ? 0 : 1];
    return admin_url_ + (admin_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + name;
  }

 private:
  explicit BenchSchemas(std::string admin_url) : admin_url_(std::move(admin_url)) {}
  std::string admin_url_;
  std::vector<std::string> names_;
};

struct BackendConfig {
  std::string name;
  bool postgresql = false;
  int source_instances = 1;
};

struct BackendResult {
  std::string name;
  double rate = 0, p50 = 0, p99 = 0, cpu_ms = 0;
  double server_cpu_ms = -1;            // -1: SQLite, no server
  double commits = -1, writes = -1;     // -1: no writer counters (PostgreSQL)
  double handoffs = 0;                  // writer jobs + worker jobs
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The daemons' settings, the same in every configuration: a worker per
// client (the source drives each init on a worker), and a server thread per
// keep-alive connection that may be open at once (the clients' and the
// peer's, one per migration worker), or a connection waits for an idle one
// to time out.
void ThroughputTweaks(const Options& o, daemon::Config& c) {
  c.migration_workers = std::max(16, o.concurrency);
  c.server_threads = 2 * o.concurrency + c.migration_workers + 8;
  c.keep_alive_seconds = 5;
  c.ds.join_store_transactions = !o.separate_ds_writes;
}

// A second source instance beside `d`'s: the same domain, TLS files, keys
// (copied before it starts, as an operator copies them) and database; its
// own data directory, instance id and port.
Result<std::unique_ptr<daemon::Daemon>> StartSecondSource(testing::TwoDaemons& d,
                                                          uint16_t* port) {
  namespace fs = std::filesystem;
  daemon::Config c = d.source_config();
  const fs::path first(c.data_dir);
  c.data_dir = c.data_dir + "-b";
  c.instance_id = "bench-source-b";
  c.listen.port = static_cast<uint16_t>(testing::UnusedLoopbackPort());
  std::error_code ec;
  fs::create_directories(c.data_dir, ec);
  fs::copy(first / "keys", fs::path(c.data_dir) / "keys", fs::copy_options::recursive, ec);
  if (ec) return InternalError("copying the source's keys: " + ec.message());
  ::chmod((fs::path(c.data_dir) / "keys").c_str(), 0700);
  for (const auto& f : fs::directory_iterator(fs::path(c.data_dir) / "keys")) {
    ::chmod(f.path().c_str(), 0600);
  }
  MIMI_ASSIGN_OR_RETURN(auto second, daemon::Daemon::Create(c, SystemClock::Get()));
  MIMI_ASSIGN_OR_RETURN(auto ports, second->Start());
  *port = ports.public_port;
  return second;
}

Result<BackendResult> RunBackend(const Options& o, const BackendConfig& config,
                                 crypto::SignatureScheme scheme,
                                 const std::string& admin_url) {
  std::unique_ptr<BenchSchemas> schemas;
  std::unique_ptr<store::pg::PgConnection> admin;
  if (config.postgresql) {
    MIMI_ASSIGN_OR_RETURN(schemas, BenchSchemas::Create(admin_url));
    MIMI_ASSIGN_OR_RETURN(admin, store::pg::PgConnection::Open({admin_url, "", 10}));
  }
  testing::TwoDaemons daemons(SystemClock::Get(), [&](daemon::Config& c) {
    ThroughputTweaks(o, c);
    if (config.postgresql) {
      c.store.backend = "postgresql";
      c.store.url = schemas->Url(c.domain);
      // A connection per worker and server thread that may write at once.
      c.store.max_connections = 2 * std::max(16, o.concurrency);
    }
  });
  if (!daemons.ok()) return InternalError("daemons: " + daemons.error());
  std::unique_ptr<daemon::Daemon> second;  // stopped before the schemas go
  std::vector<uint16_t> sources = {daemons.source_port()};
  std::vector<uint16_t> more_sources;
  if (config.source_instances == 2) {
    uint16_t port = 0;
    MIMI_ASSIGN_OR_RETURN(second, StartSecondSource(daemons, &port));
    sources.push_back(port);
    more_sources.push_back(port);
  }
  Coordinator coordinator(o, daemons, scheme);
  coordinator.set_source_ports(sources);
  const int warmup = std::max(20, o.concurrency * 2);
  MIMI_RETURN_IF_ERROR(coordinator.CreateGroups(0, warmup + o.rounds * o.migrations));
  RunResult w = RunParallel(warmup, o.concurrency, coordinator);
  if (w.failures) return InternalError("warm-up: " + w.first_failure);

  std::vector<double> rate, p50, p99, cpu, server_cpu, commits, writes, handoffs;
  for (int round = 0; round < o.rounds; ++round) {
    coordinator.set_offset(warmup + round * o.migrations);
    const WriteCounts before = ReadWriteCounts(daemons, more_sources);
    std::map<int, double> server_before;
    if (admin) server_before = PgServerCpu(*admin);
    RunResult c = RunParallel(o.migrations, o.concurrency, coordinator);
    const double server = admin ? PgServerCpuSince(server_before, PgServerCpu(*admin)) : 0;
    const WriteCounts after = ReadWriteCounts(daemons, more_sources);
    if (c.failures) {
      return InternalError("round " + std::to_string(round + 1) + ": " +
                           std::to_string(c.failures) + " failed, first: " + c.first_failure);
    }
    const double per = o.migrations;
    const double jobs = double((after.source_jobs - before.source_jobs) +
                               (after.target_jobs - before.target_jobs));
    rate.push_back(per / c.seconds);
    p50.push_back(Percentile(c.latency_ms, 50));
    p99.push_back(Percentile(c.latency_ms, 99));
    cpu.push_back(1000 * c.cpu_seconds / per);
    server_cpu.push_back(1000 * server / per);
    commits.push_back(double((after.source_commits - before.source_commits) +
                             (after.target_commits - before.target_commits)) /
                      per);
    writes.push_back(jobs / per);
    handoffs.push_back((jobs + double(after.worker_jobs - before.worker_jobs)) / per);
    std::printf("%s, round %d: %.1f/s, p50 %.0f ms, %.2f ms CPU here%s\n",
                config.name.c_str(), round + 1, rate.back(), p50.back(), cpu.back(),
                admin ? (" + " + std::to_string(server_cpu.back()).substr(0, 5) +
                         " ms in the server")
                            .c_str()
                      : "");
    std::fflush(stdout);
  }
  if (second) second->Stop();
  BackendResult r;
  r.name = config.name;
  r.rate = Median(rate);
  r.p50 = Median(p50);
  r.p99 = Median(p99);
  r.cpu_ms = Median(cpu);
  if (config.postgresql) {
    r.server_cpu_ms = Median(server_cpu);
  } else {
    r.commits = Median(commits);
    r.writes = Median(writes);
  }
  r.handoffs = Median(handoffs);
  return r;
}

int MainBackends(const Options& o, crypto::SignatureScheme scheme) {
  std::string url = o.pg_url;
  if (url.empty() && std::getenv("MIMI_TEST_PG_URL") != nullptr) {
    url = std::getenv("MIMI_TEST_PG_URL");
  }
  if (url.empty()) {
    std::fprintf(stderr,
                 "--backend %s needs a PostgreSQL server: --pg-url URL or "
                 "MIMI_TEST_PG_URL (tools/bench throughput starts one when "
                 "neither is given)\n",
                 o.backend.c_str());
    return 2;
  }
  std::string settings;
  {
    auto admin = store::pg::PgConnection::Open({url, "", 10});
    if (!admin.ok()) {
      std::fprintf(stderr, "--pg-url: %s\n", admin.status().ToString().c_str());
      return 2;
    }
    for (const char* name : {"server_version", "fsync", "synchronous_commit"}) {
      auto r = (*admin)->Exec("bench: settings", std::string("SHOW ") + name);
      settings += std::string(settings.empty() ? "" : ", ") + name + "=" +
                  (r.ok() ? r->Text(0, 0) : "?");
    }
  }
  std::vector<BackendConfig> configs;
  if (o.backend == "both") configs.push_back({"sqlite", false, 1});
  configs.push_back({"postgresql, 1 source instance", true, 1});
  configs.push_back({"postgresql, 2 source instances", true, 2});
  std::vector<BackendResult> results;
  for (const BackendConfig& c : configs) {
    auto r = RunBackend(o, c, scheme, url);
    if (!r.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(), r.status().ToString().c_str());
      return 1;
    }
    results.push_back(*r);
  }
  std::printf(
      "\nthroughput by store backend: %d migrations x %d rounds per "
      "configuration, concurrency %d, suite %u; SQLite at synchronous=FULL; "
      "PostgreSQL %s. Both daemons on the backend (PostgreSQL: a schema per "
      "domain); two source instances share the source schema and get the "
      "inits in turn. Medians over the rounds. CPU: this process (clients and "
      "daemons) + the PostgreSQL server's processes.\n\n",
      o.migrations, o.rounds, o.concurrency, o.suite, settings.c_str());
  std::printf(
      "| configuration | migrations/s | p50 | p99 | CPU per migration | "
      "commits, writes, hand-offs per migration |\n"
      "| --- | --- | --- | --- | --- | --- |\n");
  for (const BackendResult& r : results) {
    char cpu[64], counts[64];
    if (r.server_cpu_ms >= 0) {
      std::snprintf(cpu, sizeof cpu, "%.1f + %.1f ms", r.cpu_ms, r.server_cpu_ms);
    } else {
      std::snprintf(cpu, sizeof cpu, "%.1f ms", r.cpu_ms);
    }
    if (r.commits >= 0) {
      std::snprintf(counts, sizeof counts, "%.1f, %.1f, %.1f", r.commits, r.writes,
                    r.handoffs);
    } else {
      std::snprintf(counts, sizeof counts, "-, -, %.1f", r.handoffs);
    }
    std::printf("| %s | %.1f /s | %.0f ms | %.0f ms | %s | %s |\n", r.name.c_str(),
                r.rate, r.p50, r.p99, cpu, counts);
  }
  return 0;
}

int Main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  auto cs = crypto::LookupCipherSuite(o.suite);
  if (!cs.ok()) {
    std::fprintf(stderr, "suite %u: %s\n", o.suite, cs.status().ToString().c_str());
    return 2;
  }
  std::filesystem::create_directories(o.dir);
  // TwoDaemons makes its directory under TMPDIR: put it on the measured disk.
  const std::string dir_abs = std::filesystem::absolute(o.dir).string();
  setenv("TMPDIR", dir_abs.c_str(), 1);
  log::SetLevel(log::Level::kWarn);
  if (o.backend != "sqlite") return MainBackends(o, cs->signature_scheme);

  testing::TwoDaemons daemons(SystemClock::Get(),
                              [&o](daemon::Config& c) { ThroughputTweaks(o, c); });
  if (!daemons.ok()) {
    std::fprintf(stderr, "daemons: %s\n", daemons.error().c_str());
    return 1;
  }
  Coordinator coordinator(o, daemons, cs->signature_scheme);
  const int warmup = std::max(20, o.concurrency * 2);
  const int groups = warmup + o.rounds * o.migrations;
  auto t0 = Clock::now();
  if (Status s = coordinator.CreateGroups(0, groups); !s.ok()) {
    std::fprintf(stderr, "setup: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf(
      "setup: %d groups created on source.test in %.1f s (not measured); "
      "ds.join_store_transactions = %s\n",
      groups, MillisSince(t0) / 1000, o.separate_ds_writes ? "false" : "true");

  RunResult w = RunParallel(warmup, o.concurrency, coordinator);
  if (w.failures) {
    std::fprintf(stderr, "warm-up: %d failed, first: %s\n", w.failures,
                 w.first_failure.c_str());
    return 1;
  }
  // The protocol's minimum (docs/performance.md), not the coordinator's count.
  FloorPlan plan;
  plan.source_commits_before_send = 2;  // created and frozen; content sent
  plan.source_commits_after_send = 2;   // confirmed; purged
  plan.target_commits_request = 1;      // nonce issued
  plan.target_commits_content = 1;      // group imported
  plan.content_bytes = 1024;
  Floor floor(o, daemons, cs->signature_scheme, plan);
  RunParallel(warmup, o.concurrency, floor);

  std::vector<RunResult> cs_runs, floor_runs;
  WriteCounts start = ReadWriteCounts(daemons), end = start;
  for (int round = 0; round < o.rounds; ++round) {
    coordinator.set_offset(warmup + round * o.migrations);
    const WriteCounts before = ReadWriteCounts(daemons);
    RunResult c = RunParallel(o.migrations, o.concurrency, coordinator);
    end = ReadWriteCounts(daemons);
    RunResult f = RunParallel(o.migrations, o.concurrency, floor);
    if (c.failures || f.failures) {
      std::fprintf(stderr,
                   "round %d failures: coordinator %d (%s), floor %d (%s)\n",
                   round + 1, c.failures, c.first_failure.c_str(), f.failures,
                   f.first_failure.c_str());
      return 1;
    }
    const double per = o.migrations;
    std::printf(
        "round %d: coordinator %.1f/s, %.2f ms CPU; floor %.1f/s, %.2f ms CPU; "
        "ratio %.2f; "
        "coordinator per migration: %.1f commits, %.1f writes, %.1f "
        "hand-offs\n",
        round + 1, per / c.seconds, 1000 * c.cpu_seconds / per, per / f.seconds,
        1000 * f.cpu_seconds / per, f.seconds / c.seconds,
        ((end.source_commits - before.source_commits) +
         (end.target_commits - before.target_commits)) /
            per,
        ((end.source_jobs - before.source_jobs) +
         (end.target_jobs - before.target_jobs)) /
            per,
        ((end.source_jobs - before.source_jobs) +
         (end.target_jobs - before.target_jobs) +
         (end.worker_jobs - before.worker_jobs)) /
            per);
    std::fflush(stdout);
    cs_runs.push_back(std::move(c));
    floor_runs.push_back(std::move(f));
  }
  for (const char* name : {"floor-source.db", "floor-target.db"}) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(std::filesystem::path(o.dir) / (std::string(name) + suffix));
    }
  }

  // Medians over the rounds: of the ratios, and of each side's own figures.
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  std::vector<double> rate, floor_rate, ratio, cpu, floor_cpu, cpu_ratio;
  std::vector<double> lat, floor_lat, lat99, floor_lat99;
  for (int r = 0; r < o.rounds; ++r) {
    const RunResult& c = cs_runs[r];
    const RunResult& f = floor_runs[r];
    rate.push_back(o.migrations / c.seconds);
    floor_rate.push_back(o.migrations / f.seconds);
    ratio.push_back(f.seconds / c.seconds);
    cpu.push_back(1000 * c.cpu_seconds / o.migrations);
    floor_cpu.push_back(1000 * f.cpu_seconds / o.migrations);
    cpu_ratio.push_back(c.cpu_seconds / f.cpu_seconds);
    lat.push_back(Percentile(c.latency_ms, 50));
    floor_lat.push_back(Percentile(f.latency_ms, 50));
    lat99.push_back(Percentile(c.latency_ms, 99));
    floor_lat99.push_back(Percentile(f.latency_ms, 99));
  }
  const double n = double(o.rounds) * o.migrations;
  const uint64_t jobs = (end.source_jobs - start.source_jobs) +
                        (end.target_jobs - start.target_jobs);
  const uint64_t commits = (end.source_commits - start.source_commits) +
                           (end.target_commits - start.target_commits);
  const uint64_t handoffs = jobs + (end.worker_jobs - start.worker_jobs);
  char header[640];
  std::snprintf(
      header, sizeof header,
      "%d migrations x %d rounds, concurrency %d, suite %u, synchronous=FULL. "
      "Per "
      "migration: 3 HTTPS round trips, 5 signatures, 5 verifications; the "
      "floor commits "
      "%d+%d single-row transactions (source+target, the protocol's minimum), "
      "the "
      "coordinator %.1f commits holding %.1f writes, with %.1f thread "
      "hand-offs (writes "
      "run on the writer thread, drives on a worker). Medians over the rounds.",
      o.migrations, o.rounds, o.concurrency, o.suite,
      plan.source_commits_before_send + plan.source_commits_after_send,
      plan.target_commits_request + plan.target_commits_content, commits / n,
      jobs / n, handoffs / n);
  std::vector<Row> rows;
  const double median_ratio = median(ratio),
               median_cpu_ratio = median(cpu_ratio);
  rows.push_back({"migrations/s", median(rate), "/s", "bare harness (floor)",
                  median(floor_rate),
                  ">= 0.8 floor (median ratio " +
                      std::to_string(median_ratio).substr(0, 4) + ")",
                  median_ratio >= 0.8});
  // CPU per migration says whether the cores or the waiting (fsync chains,
  // round trips) bound the rate: cores / (CPU per migration) is the most a
  // CPU-bound run could do.
  rows.push_back({"CPU per migration (all threads)", median(cpu), "ms",
                  "floor CPU per migration", median(floor_cpu),
                  "<= 1.5x floor (median ratio " +
                      std::to_string(median_cpu_ratio).substr(0, 4) + ")",
                  median_cpu_ratio <= 1.5});
  rows.push_back({"latency p50", median(lat), "ms", "floor p50",
                  median(floor_lat), "", -1});
  rows.push_back({"latency p99", median(lat99), "ms", "floor p99",
                  median(floor_lat99), "", -1});
  PrintTable("throughput", header, rows);
  return 0;
}

}  // namespace
}  // namespace mimi::bench

int main(int argc, char** argv) { return mimi::bench::Main(argc, argv); }
