// Several mimi-portd instances of one DS on one PostgreSQL database (issue
// 18 items 3-4; docs/operations.md "Several instances"). Two source
// instances A and B of source.test (the same TLS and DS key files, the same
// database, instance ids source-a and source-b, ds.mode = "http" against one
// Python stand-in DS) and one target.test (SQLite, embedded DS), as child
// processes. The client sends its init to A and B in turn, as a load
// balancer would; the target reaches source.test through a proxy that fails
// over from A to B.
//
// * DrivingInstanceDies: A is armed to crash (failpoint `crash`: _exit at
//   once, what kill -9 leaves behind) at one step of the migration it
//   drives (B joins once A holds the row, so that A is the driver); it is
//   not restarted until the end. B must finish the migration
//   once A's holder counts as dead (short heartbeat and lease settings):
//   the client is confirmed, the source row purged once, the target row
//   imported once, the commit fanned out once at the stand-in and present
//   once at the target, one source and one target row for the group. Then A
//   is started again, and `mimi-portctl list` and `status` against either
//   instance's admin API see the migration.
// * DrivingInstanceKilled: the same with a real SIGKILL, sent while A
//   stalls at a failpoint (a long delay) holding the row's lease in
//   content-sent or confirmed.
// * PostgresRestartsMidMigration: the database server (one of the test's
//   own, tools/pg-test-cluster, so the shared test server is not touched)
//   goes down while A is inside the migration, and comes back on the same
//   port: both daemons keep running, and the migration ends whole.
//
// Skipped without MIMI_TEST_PG_URL or python3.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "crypto/signing_key.h"
#include "embedded_ds/embedded_ds.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/messages.h"
#include "protocol/client_tokens.h"
#include "store/pg/pg_store.h"
#include "store/sqlite_store.h"
#include "testing/command.h"
#include "testing/elapsed.h"
#include "testing/fault_proxy.h"
#include "testing/http_reply.h"
#include "testing/loopback_port.h"
#include "testing/portd_process.h"
#include "testing/standin_ds.h"
#include "testing/store_backend.h"
#include "testing/synthetic_mls.h"
#include "testing/temp_dir.h"
#include "testing/test_ca.h"

namespace mimi {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using store::MigrationState;
using store::Role;
using testing::PortdProcess;
using Steady = std::chrono::steady_clock;

constexpr uint64_t kMultiEpoch = 5;
constexpr uint16_t kMultiSuite = 1;
// A dead instance's holder lapses one heartbeat timeout after its last
// heartbeat; the lease is the bound when the reclaim is off or late.
constexpr int64_t kMultiHeartbeatMs = 200;
constexpr int64_t kMultiHeartbeatTimeoutMs = 1000;
constexpr int64_t kMultiLeaseMs = 3000;
constexpr auto kMultiDeadline = std::chrono::seconds(60);
constexpr auto kMultiRetryPause = std::chrono::milliseconds(50);
constexpr char kMultiType[] = "application/mimi-portability";

const fs::path kMultiSourceDir(MIMI_SOURCE_DIR);
const fs::path kMultiBinaryDir(MIMI_BINARY_DIR);

std::string MultiMissingPython() {
  if (testing::RunCommand("command -v python3 >/dev/null").exit_code != 0) {
    return "python3 is not installed (the stand-in DS needs it)";
  }
  return "";
}

using MultiReply = testing::HttpReply;

MultiReply MultiPost(httplib::Client& c, const std::string& path,
                     const Bytes& body, const httplib::Headers& headers = {}) {
  return testing::PostBytes(c, path, body, kMultiType, headers);
}

bool MultiRetryable(const MultiReply& r) {
  return !r.answered || r.status >= 500 || r.status == 429 || r.status == 202;
}

// Both source instances, the target, the stand-in DS and the proxy.
class MultiStack {
 public:
  static Result<std::unique_ptr<MultiStack>> Create(std::string store_url) {
    signal(SIGPIPE, SIG_IGN);  // TLS writes to a daemon that just died
    std::unique_ptr<MultiStack> s(new MultiStack());
    s->store_url_ = std::move(store_url);
    fs::create_directories(s->dir_ / "ca");
    MIMI_ASSIGN_OR_RETURN(testing::TestCa ca,
                          testing::TestCa::Create(s->dir_ / "ca"));
    s->ca_file_ = ca.ca_cert_path().string();
    for (const char* domain : {"source.test", "target.test"}) {
      MIMI_ASSIGN_OR_RETURN(testing::LeafCert leaf,
                            ca.IssueLeaf(domain, {domain}));
      s->leaf_[domain == std::string("source.test") ? 0 : 1] = leaf;
    }
    std::vector<uint16_t> ports;
    while (ports.size() < 5) {
      const uint16_t p = testing::StableLoopbackPort();
      if (p == 0) return UnavailableError("no free loopback port");
      if (std::find(ports.begin(), ports.end(), p) == ports.end()) {
        ports.push_back(p);
      }
    }
    s->port_a_ = ports[0];
    s->port_b_ = ports[1];
    s->port_target_ = ports[2];
    s->admin_a_ = ports[3];
    s->admin_b_ = ports[4];
    for (const char* d : {"a", "b", "target"}) {
      fs::create_directories(s->dir_ / d);
      ::chmod((s->dir_ / d).c_str(), 0700);
    }
    MIMI_ASSIGN_OR_RETURN(s->client_token_,
                          protocol::ClientTokens::Issue(
                              s->dir_ / "target" / "client_tokens", "multi"));
    MIMI_ASSIGN_OR_RETURN(
        s->standin_,
        testing::StandinDs::Start({kMultiSourceDir /
                                       "tests/standin_ds/standin_ds.py",
                                   s->dir_.path(), "source-ds", {}, {}}));
    MIMI_ASSIGN_OR_RETURN(s->proxy_,
                          testing::FaultProxy::Start(s->port_a_, 0, s->port_b_));
    s->a_ = std::make_unique<PortdProcess>("source-a", s->dir_ / "a.toml",
                                           s->dir_ / "a");
    s->b_ = std::make_unique<PortdProcess>("source-b", s->dir_ / "b.toml",
                                           s->dir_ / "b");
    s->target_ = std::make_unique<PortdProcess>(
        "target", s->dir_ / "target.toml", s->dir_ / "target");
    return s;
  }
  ~MultiStack() {
    if (a_) a_->Kill();
    if (b_) b_->Kill();
    if (target_) target_->Kill();
  }

  // The target, then A (armed with `a_failpoints`), then (unless told not
  // to: StartB later) B with A's DS key files: one DS, one set of keys.
  Status Start(const std::string& a_failpoints, bool start_b = true) {
    MIMI_RETURN_IF_ERROR(WriteTargetConfig());
    MIMI_RETURN_IF_ERROR(WriteSourceConfig("a", port_a_, admin_a_));
    MIMI_RETURN_IF_ERROR(WriteSourceConfig("b", port_b_, admin_b_));
    MIMI_RETURN_IF_ERROR(target_->Start());
    MIMI_RETURN_IF_ERROR(a_->Start(a_failpoints));
    return start_b ? StartB() : Status::Ok();
  }
  Status StartB() {
    std::error_code ec;
    fs::copy(dir_ / "a" / "keys", dir_ / "b" / "keys",
             fs::copy_options::recursive, ec);
    if (ec) return InternalError("copying the keys: " + ec.message());
    ::chmod((dir_ / "b" / "keys").c_str(), 0700);
    for (const auto& f : fs::directory_iterator(dir_ / "b" / "keys")) {
      ::chmod(f.path().c_str(), 0600);
    }
    return b_->Start();
  }

  PortdProcess& a() { return *a_; }
  PortdProcess& b() { return *b_; }
  PortdProcess& target() { return *target_; }
  testing::StandinDs& standin() { return *standin_; }
  uint16_t port_a() const { return port_a_; }
  uint16_t port_b() const { return port_b_; }
  uint16_t admin_port(bool a) const { return a ? admin_a_ : admin_b_; }
  const fs::path& dir() const { return dir_.path(); }

  std::unique_ptr<httplib::Client> Client(uint16_t port) const {
    auto c = std::make_unique<httplib::Client>("https://127.0.0.1:" +
                                               std::to_string(port));
    c->set_ca_cert_path(ca_file_.c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(std::chrono::seconds(2));
    c->set_read_timeout(std::chrono::seconds(10));
    c->set_write_timeout(std::chrono::seconds(5));
    return c;
  }
  std::unique_ptr<httplib::Client> TargetClient() const {
    return Client(port_target_);
  }
  const std::string& client_token() const { return client_token_; }

  Result<std::unique_ptr<store::pg::PgStore>> SourceStore() const {
    store::pg::PgPoolOptions o;
    o.connect.url = store_url_;
    o.max_connections = 1;
    MIMI_ASSIGN_OR_RETURN(auto s,
                          store::pg::PgStore::Open(o, SystemClock::Get()));
    return s;
  }
  std::string TargetDatabase() const {
    return (dir_ / "target" / "mimi.db").string();
  }

  std::string Logs() const {
    return "--- A ---\n" + a_->LogTail(5000) + "\n--- B ---\n" +
           b_->LogTail(5000) + "\n--- target ---\n" + target_->LogTail(3000);
  }

 private:
  MultiStack() = default;

  void Common(std::ofstream& out, const std::string& domain,
              const std::string& data_dir, uint16_t port) const {
    out << "domain = \"" << domain << "\"\n"
        << "listen = \"127.0.0.1:" << port << "\"\n"
        << "data_dir = \"" << data_dir << "\"\n"
        << "log_level = \"info\"\n"
        << "server_threads = 16\n"
        << "keep_alive_seconds = 1\n";
  }
  void Tail(std::ofstream& out, const testing::LeafCert& leaf,
            const std::string& peer, uint16_t peer_port) const {
    out << "[tls]\n"
        << "cert = \"" << leaf.cert_path.string() << "\"\n"
        << "key = \"" << leaf.key_path.string() << "\"\n"
        << "ca = \"" << ca_file_ << "\"\n"
        << "[peers]\n"
        << "\"" << peer << "\" = \"127.0.0.1:" << peer_port << "\"\n"
        << "[recovery]\n"
        << "scan_interval_ms = 50\n"
        << "backoff_initial_ms = 20\n"
        << "backoff_max_ms = 200\n"
        << "lease_ms = " << kMultiLeaseMs << "\n"
        << "heartbeat_ms = " << kMultiHeartbeatMs << "\n"
        << "heartbeat_timeout_ms = " << kMultiHeartbeatTimeoutMs << "\n"
        << "max_attempts = 1000\n";
  }
  Status WriteSourceConfig(const std::string& name, uint16_t port,
                           uint16_t admin) const {
    std::ofstream out(dir_ / (name + ".toml"));
    Common(out, "source.test", (dir_ / name).string(), port);
    out << "admin_listen = \"127.0.0.1:" << admin << "\"\n";
    out << "[instance]\nid = \"source-" << name << "\"\n";
    Tail(out, leaf_[0], "target.test", port_target_);
    out << "[store]\n"
        << "backend = \"postgresql\"\n"
        << "url = \"" << store_url_ << "\"\n"
        << "max_connections = 4\n"
        << "[ds]\n"
        << "mode = \"http\"\n"
        << "base_url = \"" << standin_->base_url() << "\"\n"
        << "secret_file = \"" << standin_->secret_file().string() << "\"\n"
        << "timeout_ms = 2000\n";
    return out.good() ? Status::Ok() : InternalError("cannot write config");
  }
  Status WriteTargetConfig() const {
    std::ofstream out(dir_ / "target.toml");
    Common(out, "target.test", (dir_ / "target").string(), port_target_);
    out << "admin_listen = \"off\"\n";
    Tail(out, leaf_[1], "source.test", proxy_->port());
    return out.good() ? Status::Ok() : InternalError("cannot write config");
  }

  testing::TempDir dir_;
  std::string store_url_;
  std::string ca_file_;
  testing::LeafCert leaf_[2];
  uint16_t port_a_ = 0, port_b_ = 0, port_target_ = 0, admin_a_ = 0,
           admin_b_ = 0;
  std::string client_token_;
  std::unique_ptr<testing::StandinDs> standin_;
  std::unique_ptr<testing::FaultProxy> proxy_;
  std::unique_ptr<PortdProcess> a_, b_, target_;
};

// One group at the stand-in and its client, which asks the target for a
// MigrationResponse and then sends the init to A and B in turn.
struct MultiMigration {
  Bytes group_id;
  std::vector<crypto::SigningKey> keys;
  Bytes commit;
  std::string id;
  Bytes init_body;
  bool confirmed = false;
  std::string error;
  int inits = 0;
};

Status MultiCreateGroup(MultiStack& s, const std::string& label,
                        MultiMigration* m) {
  m->group_id = ToBytes("multi-" + label);
  MIMI_ASSIGN_OR_RETURN(auto cs, crypto::LookupCipherSuite(kMultiSuite));
  std::vector<testing::SyntheticMember> members;
  for (const char* name : {"alice", "bob", "carol"}) {
    MIMI_ASSIGN_OR_RETURN(auto key,
                          crypto::SigningKey::Generate(cs.signature_scheme));
    members.push_back({name, key.public_key().encoded()});
    m->keys.push_back(std::move(key));
  }
  const Bytes tree = testing::SyntheticRatchetTree(kMultiSuite, members);
  MIMI_ASSIGN_OR_RETURN(Bytes aad,
                        Encode(MigrationCommitAAD{ToBytes("target.test")}));
  m->commit = testing::SyntheticPublicCommit(m->group_id, kMultiEpoch, 1, aad);
  const Bytes info = testing::SyntheticGroupInfo(
      kMultiSuite, m->group_id, kMultiEpoch, tree, 0, m->keys[0]);
  httplib::Client c("127.0.0.1", s.standin().port());
  c.set_read_timeout(std::chrono::seconds(10));
  auto r = c.Post("/ds/v1/groups",
                  codec::DumpJson(json{{"group_info", ToHex(info)},
                                       {"ratchet_tree", ToHex(tree)}}),
                  "application/json");
  if (!r || r->status != 201) {
    return InternalError("creating the group at the stand-in: " +
                         (r ? r->body : httplib::to_string(r.error())));
  }
  return Status::Ok();
}

void MultiRunClient(MultiStack& s, MultiMigration& m, Steady::time_point until,
                    const std::atomic<bool>& stop) {
  auto target = s.TargetClient();
  while (m.init_body.empty() && Steady::now() < until && !stop) {
    MigrationRequest request{ToBytes("source.test"), ToBytes("target.test"),
                             m.group_id, kMultiEpoch};
    MultiReply r = MultiPost(
        *target, "/mimi-portability/v1/request", *Encode(request),
        {{"MIMI-Cipher-Suite", std::to_string(kMultiSuite)},
         {"Authorization", "Bearer " + s.client_token()}});
    if (MultiRetryable(r)) {
      std::this_thread::sleep_for(kMultiRetryPause);
      continue;
    }
    if (r.status != 200) {
      m.error = "request: " + std::to_string(r.status) + " " + r.body;
      return;
    }
    auto response = Decode<MigrationResponse>(ToBytes(r.body));
    if (!response.ok()) {
      m.error = "response: " + response.status().ToString();
      return;
    }
    MigrationInit init{*response, {}};
    if (Status st = crypto::SignMessage(m.keys[1], &init); !st.ok()) {
      m.error = "sign: " + st.ToString();
      return;
    }
    m.id = ToHex(response->nonce);
    m.init_body = *Encode(MigrationInitRequest{init, 1, m.commit});
  }
  // A first, then B, A, ...: the balancer's round robin, byte-identical.
  std::unique_ptr<httplib::Client> sources[2] = {s.Client(s.port_a()),
                                                 s.Client(s.port_b())};
  while (Steady::now() < until && !stop) {
    MultiReply r =
        MultiPost(*sources[m.inits++ % 2], "/mimi-portability/v1/init",
                  m.init_body);
    if (r.answered && r.status == 200) {
      m.confirmed = true;
      return;
    }
    if (!MultiRetryable(r)) {
      m.error = "init: " + std::to_string(r.status) + " " + r.body;
      return;
    }
    std::this_thread::sleep_for(kMultiRetryPause);
  }
  if (m.error.empty()) m.error = "no confirmation before the deadline";
}

// Runs MultiRunClient on a thread and joins it however the test ends.
class MultiClientThread {
 public:
  MultiClientThread(MultiStack& s, MultiMigration& m)
      : thread_([this, &s, &m] {
          MultiRunClient(s, m, Steady::now() + kMultiDeadline, stop_);
          done_ = true;
        }) {}
  ~MultiClientThread() {
    stop_ = true;
    Join();
  }
  bool done() const { return done_; }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// How many events of `events` entered `state`.
int MultiEntered(const std::vector<store::MigrationEvent>& events,
                 MigrationState state) {
  int n = 0;
  for (const auto& e : events) n += e.to_state == state ? 1 : 0;
  return n;
}

// Waits until the source row is purged and the target row imported.
Status MultiWaitSettled(MultiStack& s, const std::string& id,
                        Steady::time_point until) {
  std::string last;
  while (Steady::now() < until) {
    auto source = s.SourceStore();
    auto target = store::SqliteStore::OpenReadOnly(s.TargetDatabase(),
                                                   SystemClock::Get());
    if (source.ok() && target.ok()) {
      auto sr = (*source)->Get(id, Role::kSource);
      auto tr = (*target)->Get(id, Role::kTarget);
      last = std::string(sr.ok() ? store::StateName(sr->state) : "?") + "/" +
             std::string(tr.ok() ? store::StateName(tr->state) : "?");
      if (sr.ok() && tr.ok() && sr->state == MigrationState::kPurged &&
          tr->state == MigrationState::kImported) {
        return Status::Ok();
      }
    }
    std::this_thread::sleep_for(kMultiRetryPause);
  }
  return UnavailableError("not settled; source/target: " + last);
}

// Everything a whole migration leaves behind, once.
void MultiExpectMovedOnce(MultiStack& s, const MultiMigration& m) {
  auto source = s.SourceStore();
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto events = (*source)->Events(m.id, Role::kSource);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_EQ(MultiEntered(*events, MigrationState::kConfirmed), 1);
  EXPECT_EQ(MultiEntered(*events, MigrationState::kPurged), 1);
  EXPECT_EQ(MultiEntered(*events, MigrationState::kAborted), 0);
  auto rows = (*source)->ListByGroup(m.group_id);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u) << "source rows of the group";

  auto target = store::SqliteStore::OpenReadOnly(s.TargetDatabase(),
                                                 SystemClock::Get());
  ASSERT_TRUE(target.ok());
  auto tevents = (*target)->Events(m.id, Role::kTarget);
  ASSERT_TRUE(tevents.ok());
  EXPECT_EQ(MultiEntered(*tevents, MigrationState::kImported), 1);
  auto trows = (*target)->ListByGroup(m.group_id);
  ASSERT_TRUE(trows.ok());
  int imported = 0;
  for (const auto& r : *trows) {
    imported += r.state == MigrationState::kImported ? 1 : 0;
  }
  EXPECT_EQ(imported, 1) << "imported target rows of the group";

  // The stand-in (the source DS): the commit fanned out once, the group
  // gone, a tombstone naming the target.
  httplib::Client ds("127.0.0.1", s.standin().port());
  ds.set_read_timeout(std::chrono::seconds(10));
  auto stats = ds.Get("/standin/v1/stats");
  ASSERT_TRUE(stats && stats->status == 200);
  int fan_outs = 0;
  const json stats_json = codec::ParseJson(stats->body);
  for (const auto& f : stats_json["fan_outs"]) {
    fan_outs += f["group_id"] == ToHex(m.group_id) && f["migration_id"] == m.id;
  }
  EXPECT_EQ(fan_outs, 1);
  auto moved = ds.Get(
      ("/ds/v1/groups/" + ToHex(m.group_id) + "/messages?after=0").c_str());
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 410) << moved->body;
  EXPECT_EQ(codec::ParseJson(moved->body).value("moved_to", ""), "target.test");

  // The target DS: the group one epoch on, the commit there once.
  auto tds = embedded_ds::EmbeddedDs::Open(s.TargetDatabase(),
                                           SystemClock::Get());
  ASSERT_TRUE(tds.ok()) << tds.status().ToString();
  auto details = (*tds)->Details(m.group_id);
  ASSERT_TRUE(details.ok()) << details.status().ToString();
  EXPECT_EQ(details->summary.epoch, kMultiEpoch + 1);
  auto messages = (*tds)->FetchMessages(m.group_id, 0, 1000);
  ASSERT_TRUE(messages.ok());
  int commits = 0;
  for (const auto& msg : *messages) commits += msg.message == m.commit;
  EXPECT_EQ(commits, 1);
}

// `mimi-portctl <args>` against one instance's admin API.
testing::CommandResult MultiPortctl(MultiStack& s, bool a,
                                    const std::string& args) {
  return testing::RunCommand(
      testing::ShellQuote((kMultiBinaryDir / "tools/mimi-portctl").string()) +
      " " + args + " --admin http://127.0.0.1:" +
      std::to_string(s.admin_port(a)) + " --data-dir " +
      testing::ShellQuote((s.dir() / (a ? "a" : "b")).string()) +
      " --json 2>&1");
}

// Why the suites cannot run here; empty when they can.
std::string MultiSkipReason() {
  if (!testing::TestPgUrl()) return testing::kNoTestPgMessage;
  return MultiMissingPython();
}

class MultiInstanceTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (std::string why = MultiSkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
};

class MultiInstanceDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = MultiSkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
};

// What a daemon logged after the first `offset` bytes of its log.
std::string MultiLogSince(const fs::path& log, size_t offset) {
  std::ifstream in(log, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Whether one line of `log` holds both `a` and `b`.
bool MultiLogHasLine(const std::string& log, const std::string& a,
                     const std::string& b) {
  size_t at = 0;
  while (at < log.size()) {
    const size_t end = std::min(log.find('\n', at), log.size());
    const std::string_view line(log.data() + at, end - at);
    if (line.find(a) != line.npos && line.find(b) != line.npos) return true;
    at = end + 1;
  }
  return false;
}

// The source's row of the group, read from the database.
std::optional<store::MigrationRecord> MultiSourceRow(MultiStack& s,
                                                     ByteSpan group_id) {
  auto source = s.SourceStore();
  if (!source.ok()) return std::nullopt;
  auto rows = (*source)->ListByGroup(group_id);
  if (!rows.ok() || rows->empty()) return std::nullopt;
  return rows->front();
}

// After A died (not restarted): the client is confirmed through B, the
// migration settles whole, and then, with A started again, mimi-portctl
// sees it through either instance.
void MultiExpectBFinishes(MultiStack& s, MultiMigration& m,
                          MultiClientThread& client, Steady::time_point start,
                          int64_t death_ms, const std::string& label) {
  client.Join();
  ASSERT_TRUE(m.confirmed) << m.error << "\n" << s.Logs();
  ASSERT_TRUE(
      MultiWaitSettled(s, m.id, Steady::now() + std::chrono::seconds(30)).ok())
      << s.Logs();
  const int64_t settled_ms = testing::MillisSince(start);
  EXPECT_FALSE(s.a().running()) << "A must not have been restarted";
  EXPECT_TRUE(s.b().running());
  MultiExpectMovedOnce(s, m);
  std::cout << "[ multi    ] " << label << ": A died at " << death_ms
            << " ms, settled by B at " << settled_ms << " ms, " << m.inits
            << " init POSTs\n";

  // Any instance answers for every migration, the restarted one too.
  ASSERT_TRUE(s.a().Start().ok()) << s.Logs();
  for (const bool a : {true, false}) {
    auto list = MultiPortctl(s, a, "list");
    EXPECT_EQ(list.exit_code, 0) << list.output;
    EXPECT_NE(list.output.find(m.id), std::string::npos) << list.output;
    auto status = MultiPortctl(s, a, "status " + m.id);
    EXPECT_EQ(status.exit_code, 0) << status.output;
    EXPECT_NE(status.output.find("purged"), std::string::npos)
        << status.output;
  }
}

TEST_P(MultiInstanceTest, DrivingInstanceDiesAndTheOtherFinishes) {
  const std::string point = GetParam();
  auto schema = testing::PgTestSchema::Create(*testing::TestPgUrl());
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto created = MultiStack::Create((*schema)->url());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  MultiStack& s = **created;
  // B joins once A has taken the migration (its lease on the row) or has
  // already died at the point: a fresh row is due at once, and B's scan
  // must not be the one to drive it, or A would never reach the point.
  ASSERT_TRUE(s.Start(point + "=crash", false).ok()) << s.Logs();

  MultiMigration m;
  ASSERT_TRUE(MultiCreateGroup(s, point, &m).ok());
  const auto start = Steady::now();
  MultiClientThread client(s, m);
  std::optional<testing::ExitInfo> ended;
  for (auto until = Steady::now() + std::chrono::seconds(30);
       Steady::now() < until && !(ended = s.a().Poll());) {
    auto row = MultiSourceRow(s, m.group_id);
    if (row && row->lease_holder == "source-a/1") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(s.StartB().ok()) << s.Logs();
  if (!ended) ended = s.a().WaitExit(std::chrono::seconds(30));
  ASSERT_TRUE(ended.has_value()) << point << " was never reached\n"
                                 << s.Logs();
  EXPECT_TRUE(ended->IsFailpointCrash()) << ended->ToString();
  MultiExpectBFinishes(s, m, client, start, testing::MillisSince(start),
                       point + " crash");
}

// A real SIGKILL: A stalls at the failpoint (a long delay) with the row in
// `state`, and is killed there.
struct MultiKillCase {
  const char* point;
  MigrationState state;
};

class MultiInstanceKillTest : public ::testing::TestWithParam<MultiKillCase> {
 protected:
  void SetUp() override {
    if (std::string why = MultiSkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_P(MultiInstanceKillTest, DrivingInstanceKilledAndTheOtherFinishes) {
  const MultiKillCase c = GetParam();
  auto schema = testing::PgTestSchema::Create(*testing::TestPgUrl());
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto created = MultiStack::Create((*schema)->url());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  MultiStack& s = **created;
  // B starts once A is stalled inside the migration, so that A, not B's
  // first scan, is the one driving it.
  ASSERT_TRUE(s.Start(std::string(c.point) + "=delay:60000", false).ok())
      << s.Logs();

  MultiMigration m;
  ASSERT_TRUE(MultiCreateGroup(s, std::string("kill-") + c.point, &m).ok());
  const auto start = Steady::now();
  MultiClientThread client(s, m);
  std::optional<store::MigrationRecord> row;
  for (auto until = Steady::now() + std::chrono::seconds(30);
       Steady::now() < until;) {
    row = MultiSourceRow(s, m.group_id);
    if (row && row->state == c.state) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(row && row->state == c.state)
      << "A never held the row in " << store::StateName(c.state) << "\n"
      << s.Logs();
  ASSERT_TRUE(s.StartB().ok()) << s.Logs();
  // Still A's, stalled at the failpoint: B must wait for A's death.
  row = MultiSourceRow(s, m.group_id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->state, c.state);
  EXPECT_EQ(row->lease_holder.value_or(""), "source-a/1");
  s.a().Kill();
  MultiExpectBFinishes(s, m, client, start, testing::MillisSince(start),
                       std::string(c.point) + " kill -9");
}

INSTANTIATE_TEST_SUITE_P(
    Failpoints, MultiInstanceKillTest,
    ::testing::Values(
        MultiKillCase{"source.after_persist_content_sent",
                      MigrationState::kContentSent},
        MultiKillCase{"source.before_purge", MigrationState::kConfirmed}),
    [](const ::testing::TestParamInfo<MultiKillCase>& p) {
      std::string name = p.param.point;
      for (char& ch : name) {
        if (ch == '.') ch = '_';
      }
      return name;
    });

INSTANTIATE_TEST_SUITE_P(
    Failpoints, MultiInstanceTest,
    ::testing::Values("source.after_persist_initiated",
                      "source.after_send_content",
                      "source.after_receive_complete",
                      "source.before_purge"),
    [](const ::testing::TestParamInfo<const char*>& p) {
      std::string name = p.param;
      for (char& c : name) {
        if (c == '.') c = '_';
      }
      return name;
    });

// A PostgreSQL server of the test's own (tools/pg-test-cluster), which it
// may take down and bring back without disturbing the other tests' server;
// stopped and removed by the destructor.
class MultiOwnPgCluster {
 public:
  static Result<std::unique_ptr<MultiOwnPgCluster>> Start() {
    std::unique_ptr<MultiOwnPgCluster> c(new MultiOwnPgCluster());
    testing::CommandResult r = c->Run("start");
    if (r.exit_code != 0) return UnavailableError("pg-test-cluster: " + r.output);
    c->url_ = r.output.substr(0, r.output.find('\n'));
    return c;
  }
  ~MultiOwnPgCluster() { Run("stop"); }
  Status Down() { return Check("down"); }
  Status Up() { return Check("up"); }
  const std::string& url() const { return url_; }

 private:
  MultiOwnPgCluster() = default;
  testing::CommandResult Run(const std::string& command) const {
    return testing::RunCommand(
        testing::ShellQuote((kMultiSourceDir / "tools/pg-test-cluster").string()) +
        " " + command + " " + testing::ShellQuote((dir_ / "pg").string()) +
        (command == "start" ? " 2>/dev/null" : " 2>&1"));
  }
  Status Check(const std::string& command) const {
    testing::CommandResult r = Run(command);
    return r.exit_code == 0 ? Status::Ok()
                            : InternalError("pg-test-cluster " + command +
                                            ": " + r.output);
  }
  testing::TempDir dir_;
  std::string url_;
};

TEST_F(MultiInstanceDatabaseTest, PostgresRestartsMidMigration) {
  auto pg = MultiOwnPgCluster::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  auto created = MultiStack::Create((*pg)->url());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  MultiStack& s = **created;
  // A holds the migration at its content step long enough for the server
  // to go down under it (B joins once A holds it, as above).
  ASSERT_TRUE(s.Start("source.after_freeze=delay:3000", false).ok())
      << s.Logs();
  MultiMigration m;
  ASSERT_TRUE(MultiCreateGroup(s, "pg-restart", &m).ok());
  const auto start = Steady::now();
  MultiClientThread client(s, m);

  std::optional<store::MigrationRecord> row;
  for (auto until = Steady::now() + std::chrono::seconds(20);
       Steady::now() < until;) {
    row = MultiSourceRow(s, m.group_id);
    if (row && row->lease_holder == "source-a/1") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(row && row->lease_holder == "source-a/1")
      << "A never took the row\n" << s.Logs();
  ASSERT_TRUE(s.StartB().ok()) << s.Logs();
  const size_t mark = fs::file_size(s.a().log_file());
  ASSERT_TRUE((*pg)->Down().ok());
  const auto down_at = Steady::now();
  // While it is down: the daemons answer 503 (they do not hang or die)...
  auto status = s.Client(s.port_b())
                    ->Get(("/mimi-portability/v1/migrations/" + row->id)
                              .c_str());
  ASSERT_TRUE(status) << httplib::to_string(status.error());
  EXPECT_EQ(status->status, 503) << status->body;
  // ...and A's step after the delay meets the outage: it logs a failure
  // of this migration (a failed attempt, a failed release).
  bool a_saw_it = false;
  for (auto until = Steady::now() + std::chrono::seconds(15);
       !a_saw_it && Steady::now() < until;) {
    a_saw_it = MultiLogHasLine(MultiLogSince(s.a().log_file(), mark),
                               "migration " + row->id, "failed");
    if (!a_saw_it) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int64_t down_ms = testing::MillisSince(down_at);
  EXPECT_TRUE(a_saw_it) << "A logged nothing of the migration while the "
                           "database was down\n" << s.Logs();
  EXPECT_TRUE(s.a().running() && !s.a().Poll()) << s.Logs();
  EXPECT_TRUE(s.b().running() && !s.b().Poll()) << s.Logs();
  ASSERT_TRUE((*pg)->Up().ok());

  client.Join();
  ASSERT_TRUE(m.confirmed) << m.error << "\n" << s.Logs();
  ASSERT_TRUE(
      MultiWaitSettled(s, m.id, Steady::now() + std::chrono::seconds(30)).ok())
      << s.Logs();
  EXPECT_TRUE(s.a().running() && !s.a().Poll()) << s.Logs();
  EXPECT_TRUE(s.b().running() && !s.b().Poll()) << s.Logs();
  MultiExpectMovedOnce(s, m);
  std::cout << "[ multi    ] database down for " << down_ms
            << " ms; settled at " << testing::MillisSince(start) << " ms, "
            << m.inits << " init POSTs\n";
}

}  // namespace
}  // namespace mimi
