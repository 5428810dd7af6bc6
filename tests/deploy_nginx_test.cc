// The supported public deployment (docs/operations.md, "Deploying on the
// open internet"): nginx, configured from tools/deploy/nginx/mimi-portd.conf
// as shipped, terminates TLS in front of each of two daemons
// (source.test and target.test, each listening in plain HTTP on loopback
// with tls.terminated_by_proxy), and the daemons reach each other through
// the other's nginx with verified TLS. While 500 idle TCP connections and
// 50 slowloris connections (TLS done, then a request header a byte a
// second) are held open against each nginx's public port, /healthz answers
// through nginx and a full migration completes; and nginx cuts all those
// connections off within its header timeout while /healthz keeps answering.
//
// Starts real nginx processes (skipped when nginx is not installed;
// tools/setup installs it). Everything it opens is closed and every child
// killed before the test ends.
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "crypto/signing_key.h"
#include "keys/peer_client.h"
#include "mimi_portability/endpoints.h"
#include "mimi_portability/messages.h"
#include "testing/ds_member.h"
#include "testing/https_server.h"
#include "testing/loopback_port.h"
#include "testing/synthetic_mls.h"
#include "testing/temp_dir.h"
#include "testing/two_daemons.h"

namespace mimi {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::TempDir;
using testing::TwoDaemons;

constexpr uint64_t kGroupEpoch = 5;
constexpr int kIdleConnections = 500;
constexpr int kSlowlorisConnections = 50;

std::string NginxBinary() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/local/sbin/nginx",
                        "/usr/bin/nginx", "/usr/local/bin/nginx"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One nginx in front of one daemon: the shipped template with its
// placeholders filled in, its own prefix directory, in the foreground.
class Nginx {
 public:
  ~Nginx() { Stop(); }

  Status Start(const std::string& binary, uint16_t public_port,
               const daemon::Config& ds, uint16_t upstream_port) {
    // As root, nginx's workers run as `user`: they must reach the temp
    // files under this directory.
    ::chmod(dir_.path().c_str(), 0755);
    std::ifstream in(
        std::string(MIMI_SOURCE_DIR "/tools/deploy/nginx/mimi-portd.conf"));
    std::stringstream text;
    text << in.rdbuf();
    std::string conf = text.str();
    if (conf.empty()) return InternalError("cannot read the nginx template");
    const std::string user =
        ::getgrnam("nogroup") != nullptr ? "nobody nogroup" : "nobody";
    const std::map<std::string, std::string> values = {
        {"@USER@", user},
        {"@STATE_DIR@", dir_.path().string()},
        {"@LOG_DIR@", dir_.path().string()},
        {"@LISTEN@", "127.0.0.1:" + std::to_string(public_port)},
        {"@DOMAIN@", ds.domain},
        {"@CERT@", ds.tls.cert_file},
        {"@KEY@", ds.tls.key_file},
        {"@UPSTREAM@", "127.0.0.1:" + std::to_string(upstream_port)},
        {"@MAX_BODY@", std::to_string(ds.max_body_bytes)},
    };
    for (const auto& [key, value] : values) {
      for (size_t at = conf.find(key); at != std::string::npos;
           at = conf.find(key, at + value.size())) {
        conf.replace(at, key.size(), value);
      }
    }
    if (conf.find('@') != std::string::npos) {
      return InternalError("a placeholder of the template is left unfilled");
    }
    const std::string conf_path = (dir_ / "nginx.conf").string();
    std::ofstream(conf_path) << conf;
    const std::string prefix = dir_.path().string() + "/";
    const std::string error_log = (dir_ / "error.log").string();
    pid_ = ::fork();
    if (pid_ < 0) return InternalError("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::execl(binary.c_str(), binary.c_str(), "-p", prefix.c_str(), "-c",
              conf_path.c_str(), "-e", error_log.c_str(), "-g", "daemon off;",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Up when its public port accepts connections.
    for (auto deadline = steady_clock::now() + seconds(10);
         steady_clock::now() < deadline;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return InternalError("nginx exited: " + ErrorLog());
      }
      int fd = ConnectLoopback(public_port);
      if (fd >= 0) {
        ::close(fd);
        return Status::Ok();
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return InternalError("nginx did not listen: " + ErrorLog());
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);  // fast shutdown of master and workers
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string ErrorLog() const {
    std::ifstream in(dir_ / "error.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
};

// Holds `idle` silent TCP connections and `slow` slowloris connections
// (TLS handshake completed, then "GET /healthz ..." a byte a second, never
// finished) against one port from its own thread. nginx cuts both kinds
// off after client_header_timeout; whatever it closes is opened again at
// once, so the count stays up until Stop(). Stop() closes everything.
class Attacker {
 public:
  Attacker(uint16_t port, int idle, int slow) : port_(port) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // not the point
    idle_.assign(static_cast<size_t>(idle), -1);
    slow_.resize(static_cast<size_t>(slow));
    thread_ = std::thread([this] { Run(); });
  }
  ~Attacker() {
    Stop();
    SSL_CTX_free(ctx_);
  }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // All connections have been open at once.
  bool WaitAllOpen(milliseconds timeout) {
    for (auto deadline = steady_clock::now() + timeout;
         steady_clock::now() < deadline;) {
      if (open_.load() == idle_.size() + slow_.size()) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }
  size_t open() const { return open_.load(); }
  int reopened() const { return reopened_.load(); }
  uint64_t slow_bytes() const { return slow_bytes_.load(); }

 private:
  struct Slow {
    int fd = -1;
    SSL* ssl = nullptr;
    size_t sent = 0;
  };

  static constexpr char kHeader[] =
      "GET /healthz HTTP/1.1\r\nHost: attacker\r\nX-Padding: "
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

  void CloseSlow(Slow& s) {
    if (s.ssl != nullptr) SSL_free(s.ssl);
    if (s.fd >= 0) ::close(s.fd);
    s = Slow{};
  }

  bool OpenSlow(Slow& s) {
    s.fd = ConnectLoopback(port_);
    if (s.fd < 0) return false;
    s.ssl = SSL_new(ctx_);
    SSL_set_fd(s.ssl, s.fd);
    if (SSL_connect(s.ssl) != 1) {
      ERR_clear_error();
      CloseSlow(s);
      return false;
    }
    return true;
  }

  // A peer close shows as readable (EOF or RST) on a socket we never read.
  static bool Closed(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char c;
    return ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) <= 0;
  }

  void Run() {
    auto next_byte = steady_clock::now();
    // Bounded: the test stops it within seconds; this is a backstop.
    const auto give_up = steady_clock::now() + seconds(120);
    while (!stop_ && steady_clock::now() < give_up) {
      size_t count = 0;
      for (int& fd : idle_) {
        if (fd >= 0 && Closed(fd)) {
          ::close(fd);
          fd = -1;
          ++reopened_;
        }
        if (fd < 0) fd = ConnectLoopback(port_);
        count += fd >= 0;
      }
      const bool tick = steady_clock::now() >= next_byte;
      for (Slow& s : slow_) {
        if (s.ssl != nullptr && tick) {
          if (s.sent + 1 >= sizeof(kHeader) ||
              SSL_write(s.ssl, kHeader + s.sent, 1) != 1) {
            ERR_clear_error();
            CloseSlow(s);
            ++reopened_;
          } else {
            ++s.sent;
            ++slow_bytes_;
          }
        }
        if (s.ssl == nullptr) OpenSlow(s);
        count += s.ssl != nullptr;
      }
      if (tick) next_byte += seconds(1);
      open_ = count;
      std::this_thread::sleep_for(milliseconds(50));
    }
    for (int& fd : idle_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
    for (Slow& s : slow_) CloseSlow(s);
    open_ = 0;
  }

  const uint16_t port_;
  SSL_CTX* ctx_ = nullptr;
  std::vector<int> idle_;
  std::vector<Slow> slow_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> open_{0};
  std::atomic<int> reopened_{0};
  std::atomic<uint64_t> slow_bytes_{0};
  std::thread thread_;
};

struct Answer {
  int status = 0;
  std::string body;
  std::string error;
};

class DeployNginxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = NginxBinary();
    if (binary_.empty()) {
      GTEST_SKIP() << "nginx is not installed (tools/setup installs it)";
    }
    ::signal(SIGPIPE, SIG_IGN);  // writes to connections nginx reset
    // Two attackers' sockets, the daemons and the clients.
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 8192) {
      rl.rlim_cur = std::min<rlim_t>(8192, rl.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    source_public_ = static_cast<uint16_t>(testing::UnusedLoopbackPort());
    do {
      target_public_ = static_cast<uint16_t>(testing::UnusedLoopbackPort());
    } while (target_public_ == source_public_);
    daemons_ = std::make_unique<TwoDaemons>(clock_, [this](daemon::Config& c) {
      // Plain HTTP on loopback, for nginx only; the peer is reached
      // through its nginx, over HTTPS verified against its domain.
      c.tls.terminated_by_proxy = true;
      // nginx closes its idle upstream connections first (after 4 s), as
      // the shipped configuration requires.
      c.keep_alive_seconds = 5;
      c.peers.clear();
      if (c.domain == "source.test") {
        c.peers["target.test"] = {"127.0.0.1", target_public_};
      } else {
        c.peers["source.test"] = {"127.0.0.1", source_public_};
      }
    });
    ASSERT_TRUE(daemons_->ok()) << daemons_->error();
    Status s = source_nginx_.Start(binary_, source_public_,
                                   daemons_->source_config(),
                                   daemons_->source_port());
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = target_nginx_.Start(binary_, target_public_, daemons_->target_config(),
                            daemons_->target_port());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void TearDown() override {
    if (source_attacker_) source_attacker_->Stop();
    if (target_attacker_) target_attacker_->Stop();
    source_nginx_.Stop();
    target_nginx_.Stop();
    daemons_.reset();
  }

  // A client of a DS's nginx, as a member or a peer reaches it: by its
  // domain, verifying nginx's certificate for that domain.
  keys::PeerClient Client(const std::string& domain, uint16_t port) {
    keys::PeerClientOptions o;
    o.locator = [port](std::string_view) -> Result<keys::PeerAddress> {
      return keys::PeerAddress{"127.0.0.1", port};
    };
    o.ca_file = daemons_->ca_file();
    o.read_timeout = o.write_timeout = seconds(20);
    auto c = keys::MakePeerClient(domain, o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }

  Answer Post(const std::string& domain, uint16_t port, const std::string& path,
              const std::string& body, const char* type,
              const httplib::Headers& headers = {}) {
    keys::PeerClient c = Client(domain, port);
    auto r = c.http->Post(path, headers, body, type);
    Answer a;
    if (!r) {
      a.error = "no answer: " + httplib::to_string(r.error());
      return a;
    }
    a.status = r->status;
    a.body = r->body;
    auto j = mimi::codec::ParseJson(r->body);
    if (j.is_object()) a.error = j.value("error", "") + " " + j.value("detail", "");
    return a;
  }

  // GET /healthz through nginx; the time it took.
  milliseconds Health(const std::string& domain, uint16_t port, int* status) {
    const auto start = steady_clock::now();
    keys::PeerClient c = Client(domain, port);
    auto r = c.http->Get("/healthz");
    *status = r ? r->status : -1;
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() -
                                                    start);
  }

  std::string binary_;
  FakeClock clock_{SystemClock::Get().NowMillis()};
  uint16_t source_public_ = 0, target_public_ = 0;
  std::unique_ptr<TwoDaemons> daemons_;
  Nginx source_nginx_, target_nginx_;
  std::unique_ptr<Attacker> source_attacker_, target_attacker_;
};

TEST_F(DeployNginxTest, HealthAndAMigrationGoThroughWhileIdleAndSlowClientsHoldConnections) {
  const uint16_t suite = 1;
  // The shipped configuration forwards only the public API.
  Answer metrics = Post("source.test", source_public_, "/metrics", "", "text/plain");
  EXPECT_EQ(metrics.status, 404) << metrics.error;

  source_attacker_ = std::make_unique<Attacker>(
      source_public_, kIdleConnections, kSlowlorisConnections);
  target_attacker_ = std::make_unique<Attacker>(
      target_public_, kIdleConnections, kSlowlorisConnections);
  ASSERT_TRUE(source_attacker_->WaitAllOpen(seconds(15)))
      << source_attacker_->open() << " open";
  ASSERT_TRUE(target_attacker_->WaitAllOpen(seconds(15)))
      << target_attacker_->open() << " open";
  // Past the daemons' 8 worker threads many times over, and slow clients
  // have sent part of their header.
  for (auto deadline = steady_clock::now() + seconds(5);
       source_attacker_->slow_bytes() < 2 * kSlowlorisConnections &&
       steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GE(source_attacker_->slow_bytes(), 2u * kSlowlorisConnections);

  int health = 0;
  const milliseconds health_time = Health("source.test", source_public_, &health);
  EXPECT_EQ(health, 200) << source_nginx_.ErrorLog();
  EXPECT_LT(health_time, seconds(5));
  Health("target.test", target_public_, &health);
  EXPECT_EQ(health, 200);

  // A full migration: the member API and the protocol through nginx; the
  // source posts the content to target.test's nginx and each side fetches
  // the other's key document through it.
  const auto migration_start = steady_clock::now();
  const testing::SyntheticGroup group = testing::SyntheticGroup::Make(
      suite, ToBytes("group-behind-nginx"), kGroupEpoch, 2, "member");
  const Bytes& group_id = group.group_id();
  Answer created =
      Post("source.test", source_public_, "/ds/v1/groups", group.CreateBody(),
           "application/json",
           testing::ClientTokenHeaders(daemons_->source_client_token()));
  ASSERT_EQ(created.status, 201) << created.error;

  MigrationRequest request{ToBytes("source.test"), ToBytes("target.test"),
                           group_id, kGroupEpoch};
  Answer asked =
      Post("target.test", target_public_, "/mimi-portability/v1/request",
           ToString(*Encode(request)), endpoints::kMediaType,
           {{"MIMI-Cipher-Suite", std::to_string(suite)},
            {"Authorization", "Bearer " + daemons_->client_token()}});
  ASSERT_EQ(asked.status, 200) << asked.error;
  auto response = Decode<MigrationResponse>(ToBytes(asked.body));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  MigrationInit init{*response, {}};
  ASSERT_TRUE(crypto::SignMessage(group.keys()[1], &init).ok());
  Bytes commit = testing::SyntheticPublicCommit(
      group_id, kGroupEpoch, 1,
      *Encode(MigrationCommitAAD{ToBytes("target.test")}));
  Answer confirmed =
      Post("source.test", source_public_, "/mimi-portability/v1/init",
           ToString(*Encode(MigrationInitRequest{init, 1, commit})),
           endpoints::kMediaType);
  ASSERT_EQ(confirmed.status, 200) << confirmed.error;
  auto confirmation = Decode<MigrationConfirmation>(ToBytes(confirmed.body));
  ASSERT_TRUE(confirmation.ok()) << confirmation.status().ToString();
  EXPECT_EQ(ToString(confirmation->domain_name), "target.test");

  const std::string id = ToHex(response->nonce);
  for (auto deadline = steady_clock::now() + seconds(15);
       daemons_->SourceStore()->Get(id, store::Role::kSource)->state !=
           store::MigrationState::kPurged &&
       steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(daemons_->SourceStore()->Get(id, store::Role::kSource)->state,
            store::MigrationState::kPurged);
  EXPECT_EQ(daemons_->TargetStore()->Get(id, store::Role::kTarget)->state,
            store::MigrationState::kImported);
  const auto migration_time = std::chrono::duration_cast<milliseconds>(
      steady_clock::now() - migration_start);

  // The attack was on all along.
  EXPECT_EQ(source_attacker_->open(),
            size_t{kIdleConnections + kSlowlorisConnections});
  EXPECT_EQ(target_attacker_->open(),
            size_t{kIdleConnections + kSlowlorisConnections});
  Health("source.test", source_public_, &health);
  EXPECT_EQ(health, 200);

  // nginx's client_header_timeout (10 s) cuts every idle and slowloris
  // connection off; the attacker opens them again, and /healthz still
  // answers.
  const int cut_goal = kIdleConnections + kSlowlorisConnections;
  for (auto deadline = steady_clock::now() + seconds(30);
       source_attacker_->reopened() < cut_goal &&
       steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GE(source_attacker_->reopened(), cut_goal);
  Health("source.test", source_public_, &health);
  EXPECT_EQ(health, 200);
  std::printf(
      "under %d idle + %d slowloris connections per nginx: /healthz in %lld "
      "ms, migration in %lld ms, %d+%d connections cut by nginx and opened "
      "again\n",
      kIdleConnections, kSlowlorisConnections,
      static_cast<long long>(health_time.count()),
      static_cast<long long>(migration_time.count()),
      source_attacker_->reopened(), target_attacker_->reopened());
}

}  // namespace
}  // namespace mimi
