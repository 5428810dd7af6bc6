#include "testing/standin_ds.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace mimi::testing {
namespace {

std::string RandomSecret() {
  std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 64; ++i) s += kHex[rd() % 16];
  return s;
}

// Reaps the child if it exited; true if it is gone.
bool Exited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid;
}

}  // namespace

Result<std::unique_ptr<StandinDs>> StandinDs::Start(StandinDsOptions options) {
  std::unique_ptr<StandinDs> ds(new StandinDs(std::move(options)));
  ds->secret_file_ = ds->options_.dir / (ds->options_.name + ".secret");
  ds->secret_ = RandomSecret();
  {
    std::ofstream out(ds->secret_file_);
    out << ds->secret_ << "\n";
    if (!out)
      return InternalError("standin: cannot write " +
                           ds->secret_file_.string());
  }
  std::filesystem::permissions(
      ds->secret_file_,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  MIMI_RETURN_IF_ERROR(ds->Spawn(0));
  return ds;
}

StandinDs::~StandinDs() { Stop(); }

std::string StandinDs::base_url() const {
  return std::string(options_.tls_cert.empty() ? "http" : "https") +
         "://127.0.0.1:" + std::to_string(port_);
}

std::filesystem::path StandinDs::log_file() const {
  return options_.dir / (options_.name + ".log");
}

Status StandinDs::Spawn(int port) {
  const std::filesystem::path port_file =
      options_.dir / (options_.name + ".port");
  std::filesystem::remove(port_file);
  std::vector<std::string> args = {
      "python3",       options_.script.string(),
      "--db",          (options_.dir / (options_.name + ".db")).string(),
      "--secret-file", secret_file_.string(),
      "--port",        std::to_string(port),
      "--port-file",   port_file.string()};
  if (!options_.tls_cert.empty()) {
    args.insert(args.end(), {"--tls-cert", options_.tls_cert.string(),
                             "--tls-key", options_.tls_key.string()});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = log_file().string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc =
      posix_spawnp(&pid, "python3", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return InternalError("standin: cannot spawn python3");
  pid_ = pid;

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    int bound = 0;
    if (in >> bound && bound > 0) {
      port_ = bound;
      return Status::Ok();
    }
    if (Exited(pid_)) {
      pid_ = -1;
      std::ifstream l(log);
      std::stringstream text;
      text << l.rdbuf();
      return InternalError("standin: exited before listening: " + text.str());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop();
  return InternalError("standin: no port after 20 s");
}

void StandinDs::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 250; ++i) {
    if (Exited(pid_)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

Status StandinDs::Restart() {
  Stop();
  // A freshly closed port can take a moment to be bindable again.
  Status last;
  for (int attempt = 0; attempt < 20; ++attempt) {
    last = Spawn(port_);
    if (last.ok()) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

}  // namespace mimi::testing
