#include "testing/portd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "codec/json_text.h"
#include "protocol/client_tokens.h"
#include "testing/command.h"
#include "testing/loopback_port.h"
#include "testing/read_file.h"
#include "testing/test_ca.h"

extern char** environ;

namespace mimi::testing {
namespace {

constexpr int kFailpointCrashExitCode = 86;  // failpoint::kCrashExitCode

ExitInfo FromWaitStatus(int status) {
  ExitInfo info;
  if (WIFSIGNALED(status)) {
    info.signaled = true;
    info.code = WTERMSIG(status);
  } else {
    info.code = WEXITSTATUS(status);
  }
  return info;
}

}  // namespace

std::string ExitInfo::ToString() const {
  return signaled ? "killed by signal " + std::to_string(code)
                  : "exit code " + std::to_string(code);
}

bool ExitInfo::IsFailpointCrash() const {
  return !signaled && code == kFailpointCrashExitCode;
}

PortdProcess::PortdProcess(std::string name, std::filesystem::path config_file,
                           std::filesystem::path data_dir)
    : name_(std::move(name)),
      config_file_(std::move(config_file)),
      data_dir_(std::move(data_dir)) {}

PortdProcess::~PortdProcess() { Kill(); }

std::filesystem::path PortdProcess::log_file() const {
  return data_dir_.parent_path() / (name_ + ".log");
}

std::string PortdProcess::LogTail(size_t bytes) const {
  std::string all = ReadTextFile(log_file());
  return all.size() > bytes ? "..." + all.substr(all.size() - bytes) : all;
}

std::string PortdProcess::Stacks() const {
  if (!running()) return "(not running)";
  // -nx: no ~/.gdbinit; timeout: a gdb that cannot attach must not hang
  // the test that is already failing.
  CommandResult r = RunCommand(
      "command -v gdb >/dev/null || { echo '(gdb is not installed)'; exit 0; "
      "}; "
      "timeout 30 gdb -nx -batch -p " +
      std::to_string(pid_) +
      " -ex 'thread apply all bt' 2>&1 | grep -E '^(Thread|#)'");
  return r.output.empty() ? "(no backtrace)" : r.output;
}

Status PortdProcess::Start(const std::string& failpoints,
                           std::chrono::milliseconds timeout) {
  if (running()) return InternalError(name_ + " is already running");
  const auto info_path = data_dir_ / "portd.json";
  std::error_code ec;
  std::filesystem::remove(info_path, ec);  // a killed run leaves it behind

  const std::string binary = MIMI_BINARY_DIR "/coordinator/mimi-portd";
  const std::string config = config_file_.string();
  std::vector<std::string> args = {binary, "-c", config};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "MIMI_FAILPOINTS=", 16) != 0) env.emplace_back(*e);
  }
  if (!failpoints.empty()) env.push_back("MIMI_FAILPOINTS=" + failpoints);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  {
    std::ofstream(log_file(), std::ios::app)
        << "=== start " << starts_ + 1 << " of " << name_
        << (failpoints.empty() ? std::string()
                               : " MIMI_FAILPOINTS=" + failpoints)
        << " ===\n";
  }
  // fork + exec rather than posix_spawn, for PR_SET_PDEATHSIG: a test
  // process that dies (an abort, a signal) takes its daemons with it. The
  // child calls only async-signal-safe functions before exec.
  const std::string log = log_file().string();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0)
    return InternalError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(127);
    // Nothing else of this process (listening sockets of a FaultProxy,
    // client connections) may live on in the daemon.
    close_range(3, ~0U, 0);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  pid_ = pid;
  ++starts_;

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto ended = Poll()) {
      return InternalError(name_ + " ended while starting (" +
                           ended->ToString() + "):\n" + LogTail());
    }
    if (std::filesystem::exists(info_path)) {
      auto j = mimi::codec::ParseJson(ReadTextFile(info_path));
      if (j.is_object() && j.value("pid", -1) == static_cast<int>(pid_)) {
        return Status::Ok();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
  return InternalError(name_ + " did not write portd.json within " +
                       std::to_string(timeout.count()) + " ms:\n" + LogTail());
}

std::optional<ExitInfo> PortdProcess::Poll() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return std::nullopt;
  pid_ = -1;
  return FromWaitStatus(status);
}

std::optional<ExitInfo> PortdProcess::WaitExit(
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto ended = Poll()) return ended;
    if (pid_ <= 0 || std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void PortdProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::optional<ExitInfo> PortdProcess::Terminate(
    std::chrono::milliseconds grace) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, SIGTERM);
  if (auto ended = WaitExit(grace)) return ended;
  Kill();
  return ExitInfo{true, SIGKILL};
}

const char* SideName(Side side) {
  return side == Side::kSource ? "source" : "target";
}

Result<std::unique_ptr<PortdPair>> PortdPair::Create(PortdPairOptions options) {
  signal(SIGPIPE, SIG_IGN);  // TLS writes to a killed daemon
  std::unique_ptr<PortdPair> p(new PortdPair());
  p->options_ = options;
  std::filesystem::create_directories(p->dir_ / "ca");
  MIMI_ASSIGN_OR_RETURN(TestCa ca, TestCa::Create(p->dir_ / "ca"));
  p->ca_file_ = ca.ca_cert_path().string();
  p->source_port_ = StableLoopbackPort();
  do {
    p->target_port_ = StableLoopbackPort();
  } while (p->target_port_ == p->source_port_);
  if (p->source_port_ == 0 || p->target_port_ == 0) {
    return UnavailableError("no free loopback port below the ephemeral range");
  }
  p->source_to_target_port_ = p->target_port_;
  for (const char* domain : {"source.test", "target.test"}) {
    MIMI_ASSIGN_OR_RETURN(LeafCert leaf, ca.IssueLeaf(domain, {domain}));
    p->leaf_[std::string(domain)] = {leaf.cert_path, leaf.key_path};
    std::filesystem::create_directories(p->dir_ / domain);
    ::chmod((p->dir_ / domain).c_str(), 0700);
  }
  MIMI_ASSIGN_OR_RETURN(
      p->client_token_,
      protocol::ClientTokens::Issue(p->dir_ / "target.test" / "client_tokens",
                                    "chaos-client"));
  MIMI_ASSIGN_OR_RETURN(
      p->source_client_token_,
      protocol::ClientTokens::Issue(p->dir_ / "source.test" / "client_tokens",
                                    "chaos-client"));
  p->source_ = std::make_unique<PortdProcess>("source", p->dir_ / "source.toml",
                                              p->dir_ / "source.test");
  p->target_ = std::make_unique<PortdProcess>("target", p->dir_ / "target.toml",
                                              p->dir_ / "target.test");
  return p;
}

PortdPair::~PortdPair() {
  if (source_) source_->Kill();
  if (target_) target_->Kill();
}

Status PortdPair::WriteConfig(Side side) const {
  const bool is_source = side == Side::kSource;
  const std::string domain = is_source ? "source.test" : "target.test";
  const std::string peer = is_source ? "target.test" : "source.test";
  const uint16_t port = is_source ? source_port_ : target_port_;
  const uint16_t peer_port = is_source ? source_to_target_port_ : source_port_;
  const auto& [cert, key] = leaf_.at(domain);
  std::ofstream out(dir_ / (std::string(SideName(side)) + ".toml"));
  out << "domain = \"" << domain << "\"\n"
      << "listen = \"127.0.0.1:" << port << "\"\n"
      << "admin_listen = \"off\"\n"
      << "data_dir = \"" << (dir_ / domain).string() << "\"\n"
      << "log_level = \"" << options_.log_level << "\"\n"
      << "server_threads = 16\n"
      << "keep_alive_seconds = 1\n"
      << "[tls]\n"
      << "cert = \"" << cert.string() << "\"\n"
      << "key = \"" << key.string() << "\"\n"
      << "ca = \"" << ca_file_ << "\"\n"
      << "[peers]\n"
      << "\"" << peer << "\" = \"127.0.0.1:" << peer_port << "\"\n"
      << "[policy]\n"
      << "response_ttl_seconds = " << options_.response_ttl_seconds << "\n"
      << "[recovery]\n"
      << "scan_interval_ms = 50\n"
      << "backoff_initial_ms = 20\n"
      << "backoff_max_ms = 200\n"
      << "lease_ms = " << options_.lease_ms << "\n"
      << "max_attempts = 1000\n"
      << "auto_abort_after_seconds = "
      << (is_source ? options_.source_auto_abort_after_seconds : 0) << "\n"
      << "[ds]\n"
      << "join_store_transactions = "
      << (options_.join_store_transactions ? "true" : "false") << "\n";
  return out.good() ? Status::Ok() : InternalError("cannot write config");
}

Status PortdPair::Start(const std::string& source_failpoints,
                        const std::string& target_failpoints) {
  MIMI_RETURN_IF_ERROR(WriteConfig(Side::kSource));
  MIMI_RETURN_IF_ERROR(WriteConfig(Side::kTarget));
  MIMI_RETURN_IF_ERROR(target_->Start(target_failpoints));
  return source_->Start(source_failpoints);
}

std::string PortdPair::DatabasePath(Side side) const {
  return (dir_ / (side == Side::kSource ? "source.test" : "target.test") /
          "mimi.db")
      .string();
}

std::unique_ptr<httplib::Client> PortdPair::Client(Side side) const {
  const uint16_t port = side == Side::kSource ? source_port_ : target_port_;
  auto c = std::make_unique<httplib::Client>("https://127.0.0.1:" +
                                             std::to_string(port));
  c->set_ca_cert_path(ca_file_.c_str());
  c->enable_server_certificate_verification(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(std::chrono::seconds(2));
  c->set_read_timeout(std::chrono::seconds(10));
  c->set_write_timeout(std::chrono::seconds(5));
  return c;
}

std::string PortdPair::Stacks() const {
  return "--- source threads ---\n" + source_->Stacks() +
         "\n--- target threads ---\n" + target_->Stacks();
}

std::string PortdPair::Logs() const {
  return "--- source log ---\n" + source_->LogTail(6000) +
         "\n--- target log ---\n" + target_->LogTail(6000);
}

}  // namespace mimi::testing
