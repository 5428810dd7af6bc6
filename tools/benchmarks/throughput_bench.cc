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
//
// The daemons run in this process (one Daemon each, as mimi-portd builds
// them), so the client's CPU is on the same 2 cores as in a real test box.
// DIR decides the disk (the daemons' databases, the floor's files); all of it
// is removed afterwards.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <httplib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
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
#include "testing/ds_member.h"
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

WriteCounts ReadWriteCounts(const testing::TwoDaemons& d) {
  WriteCounts w;
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
    std::unique_ptr<httplib::Client> source, target;
  };
  Thread MakeThreadContext(int) {
    return {Client(d_.ca_file(), d_.source_port()),
            Client(d_.ca_file(), d_.target_port())};
  }

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
    auto b = t.source->Post(kInitPath, reinterpret_cast<const char*>(init_bytes.data()),
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
    } else if (a == "--build") {
      value();  // tools/bench passes it to every scenario; not needed here
    } else {
      std::fprintf(stderr,
                   "usage: mimi-bench-throughput [--dir DIR] [--migrations N] "
                   "[--concurrency C] [--suite 1|3] [--rounds R]\n");
      std::exit(2);
    }
  }
  return o;
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

  testing::TwoDaemons daemons(SystemClock::Get(), [&o](daemon::Config& c) {
    // A worker per client: the source drives each init on a worker.
    c.migration_workers = std::max(16, o.concurrency);
    // One server thread serves one keep-alive connection: the clients' and
    // the peer's (one per migration worker) must all fit, or a connection
    // waits for an idle one to time out.
    c.server_threads = 2 * o.concurrency + c.migration_workers + 8;
    c.keep_alive_seconds = 5;
  });
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
      "setup: %d groups created on source.test in %.1f s (not measured)\n",
      groups, MillisSince(t0) / 1000);

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
