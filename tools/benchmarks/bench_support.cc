#include "bench_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "codec/json_text.h"
#include "protocol/client_tokens.h"
#include "testing/loopback_port.h"
#include "testing/read_file.h"

namespace mimi::bench {
namespace {

using ::mimi::testing::ReadTextFile;

}  // namespace

std::filesystem::path BuildDirOfSelf() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return self.parent_path().parent_path().parent_path();
}

PortdChild::PortdChild(std::filesystem::path binary,
                       std::filesystem::path config,
                       std::filesystem::path data_dir,
                       std::filesystem::path log)
    : binary_(std::move(binary)),
      config_(std::move(config)),
      data_dir_(std::move(data_dir)),
      log_(std::move(log)) {}

PortdChild::~PortdChild() { Kill(); }

Status PortdChild::Start(std::chrono::milliseconds timeout) {
  if (running()) return InternalError("already running");
  const auto info = data_dir_ / "portd.json";
  std::error_code ec;
  std::filesystem::remove(info, ec);  // a killed run leaves it behind
  std::string binary = binary_.string(), config = config_.string(),
              log = log_.string();
  std::string dash_c = "-c";
  char* argv[] = {binary.data(), dash_c.data(), config.data(), nullptr};
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return InternalError(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    // Dies with the benchmark, whatever ends it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(127);
    close_range(3, ~0U, 0);
    execv(binary.c_str(), argv);
    _exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return InternalError(binary_.filename().string() +
                           " ended while starting; see " + log);
    }
    auto j = mimi::codec::ParseJson(ReadTextFile(info));
    if (j.is_object() && j.value("pid", -1) == static_cast<int>(pid_)) {
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill();
  return InternalError("mimi-portd did not start in time; see " + log);
}

void PortdChild::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void PortdChild::Terminate() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
}

uint64_t PortdChild::LogSize() const {
  std::error_code ec;
  auto n = std::filesystem::file_size(log_, ec);
  return ec ? 0 : n;
}

bool PortdChild::LogContainsAfter(uint64_t offset, const std::string& needle,
                                  std::string* line) const {
  std::ifstream in(log_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string l;
  while (std::getline(in, l)) {
    if (l.find(needle) != std::string::npos) {
      if (line != nullptr) *line = l;
      return true;
    }
  }
  return false;
}

int64_t ProcStatusKib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtoll(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

bool ResetPeakRss(pid_t pid) {
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
  out.flush();
  return out.good();
}

Result<PortdPair> MakePortdPair(const std::filesystem::path& work) {
  namespace fs = std::filesystem;
  PortdPair pair;
  pair.work = work;
  MIMI_ASSIGN_OR_RETURN(auto ca, testing::TestCa::Create(work));
  pair.ca_file = ca.ca_cert_path().string();
  pair.source_port = testing::StableLoopbackPort();
  do {
    pair.target_port = testing::StableLoopbackPort();
  } while (pair.target_port == pair.source_port);
  if (pair.source_port == 0 || pair.target_port == 0) {
    return InternalError("no free loopback port");
  }
  for (const char* domain : {"source.test", "target.test"}) {
    MIMI_ASSIGN_OR_RETURN(pair.leaves[domain], ca.IssueLeaf(domain, {domain}));
    fs::create_directories(pair.DataDir(domain));
    fs::permissions(pair.DataDir(domain), fs::perms::owner_all,
                    fs::perm_options::replace);
  }
  MIMI_ASSIGN_OR_RETURN(
      pair.token, protocol::ClientTokens::Issue(
                      pair.DataDir("target.test") / "client_tokens", "bench-client"));
  MIMI_ASSIGN_OR_RETURN(
      pair.source_token, protocol::ClientTokens::Issue(
                             pair.DataDir("source.test") / "client_tokens", "bench-client"));
  return pair;
}

Status WritePortdConfig(const PortdPair& pair, const std::string& domain,
                        bool admin, const std::string& top_level,
                        const std::string& sections) {
  const bool source = domain == "source.test";
  const std::string peer = source ? "target.test" : "source.test";
  auto leaf = pair.leaves.find(domain);
  if (leaf == pair.leaves.end()) return InternalError("no leaf for " + domain);
  std::ofstream out(pair.Config(domain));
  out << "domain = \"" << domain << "\"\n"
      << "listen = \"127.0.0.1:"
      << (source ? pair.source_port : pair.target_port) << "\"\n"
      << "admin_listen = \"" << (admin ? "127.0.0.1:0" : "off") << "\"\n"
      << "data_dir = \"" << pair.DataDir(domain).string() << "\"\n"
      << "log_level = \"info\"\n"
      << top_level << "[tls]\ncert = \"" << leaf->second.cert_path.string()
      << "\"\nkey = \"" << leaf->second.key_path.string() << "\"\nca = \""
      << pair.ca_file << "\"\n"
      << "[peers]\n\"" << peer << "\" = \"127.0.0.1:"
      << (source ? pair.target_port : pair.source_port) << "\"\n"
      << sections;
  out.flush();
  return out.good() ? Status::Ok() : InternalError("cannot write config");
}

std::unique_ptr<httplib::Client> PairClient(const PortdPair& pair, uint16_t port,
                                            std::chrono::seconds read_timeout) {
  auto c = std::make_unique<httplib::Client>("https://127.0.0.1:" +
                                             std::to_string(port));
  c->set_ca_cert_path(pair.ca_file.c_str());
  c->enable_server_certificate_verification(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(std::chrono::seconds(5));
  c->set_read_timeout(read_timeout);
  c->set_write_timeout(std::chrono::seconds(10));
  return c;
}

Result<double> TimeRun(const std::vector<std::string>& args, int want_exit) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) return InternalError(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    const int fd = open("/dev/null", O_WRONLY);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(127);
    close_range(3, ~0U, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms = MillisSince(start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != want_exit) {
    return InternalError(args[0] + " " + (args.size() > 1 ? args[1] : "") +
                         " exited " +
                         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status)
                                                          : -1));
  }
  return ms;
}

double Percentile(std::vector<double> ms, double p) {
  if (ms.empty()) return 0;
  std::sort(ms.begin(), ms.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * ms.size()));
  if (rank == 0) rank = 1;
  return ms[std::min(rank, ms.size()) - 1];
}

double MillisSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - t)
      .count();
}

void PrintTable(const std::string& scenario, const std::string& header,
                const std::vector<Row>& rows) {
  std::printf("\n== %s benchmark (nproc=%u; the machine is shared: figures are "
              "noisy, compare each with its baseline) ==\n%s\n",
              scenario.c_str(), std::thread::hardware_concurrency(),
              header.c_str());
  std::printf("%-10s %-44s %12s   %-40s %12s %8s  %-12s %s\n", "scenario",
              "figure", "value", "baseline", "base value", "ratio", "target",
              "met");
  for (const Row& r : rows) {
    char value[64], base[64], ratio[32];
    std::snprintf(value, sizeof value, "%.1f %s", r.value, r.unit.c_str());
    std::snprintf(base, sizeof base, "%.1f %s", r.baseline, r.unit.c_str());
    if (r.baseline > 0) {
      std::snprintf(ratio, sizeof ratio, "%.2f", r.value / r.baseline);
    } else {
      std::snprintf(ratio, sizeof ratio, "-");
    }
    std::printf("%-10s %-44s %12s   %-40s %12s %8s  %-12s %s\n",
                scenario.c_str(), r.figure.c_str(), value,
                r.baseline_name.c_str(), base, ratio,
                r.target.empty() ? "-" : r.target.c_str(),
                r.met < 0 ? "-" : (r.met ? "yes" : "NO"));
  }
  std::fflush(stdout);
}

}  // namespace mimi::bench
