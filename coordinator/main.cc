// mimi-portd: the MIMI Portability migration coordinator daemon.
//
//   mimi-portd --config /etc/mimi-portd.toml [--domain D] [--listen H:P]
//              [--admin-listen H:P] [--data-dir DIR] [--log-level L]
//              [--log-format text|json]
//              [--peer DOMAIN=HOST:PORT ...]
//   mimi-portd --check-config FILE [the same overrides]
//
// --check-config validates and exits: every wrong setting, then (once the
// settings are right) every problem with the files and the data directory
// they name (daemon/config_check.h), one per line on stderr, exit 2; "OK"
// and exit 0 when the daemon would start with it. It creates nothing.
//
// Writes <data_dir>/portd.json ({"public_port", "admin_port", "pid"}) once
// listening, so scripts and tests can use port 0. SIGTERM/SIGINT drain and
// exit 0. A bad config exits 2 with the setting named; any other failure to
// start exits 1.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "admin_api/admin_paths.h"
#include "codec/json_text.h"
#include "daemon/config.h"
#include "daemon/config_check.h"
#include "daemon/daemon.h"
#include "failpoint/failpoint.h"
#include "log/log.h"

namespace {

int CheckConfig(const std::string& path,
                const mimi::daemon::ConfigOverrides& overrides) {
  mimi::daemon::Config config;
  std::vector<mimi::Status> problems =
      mimi::daemon::ConfigFileProblems(path, overrides, &config);
  if (problems.empty()) {
    problems = mimi::daemon::CheckConfigFiles(config, mimi::SystemClock::Get());
  }
  for (const mimi::Status& p : problems) {
    std::cerr << "mimi-portd: " << path << ": " << p.detail() << "\n";
  }
  if (!problems.empty()) {
    std::cerr << "mimi-portd: " << path << ": " << problems.size()
              << (problems.size() == 1 ? " problem\n" : " problems\n");
    return 2;
  }
  std::cout << "mimi-portd: " << path << ": OK\n";
  return 0;
}

int Run(int argc, char** argv) {
  CLI::App app{"mimi-portd: MIMI Portability migration coordinator"};
  std::string config_path, check_path;
  mimi::daemon::ConfigOverrides o;
  std::string domain, listen, admin_listen, data_dir, log_level, log_format;
  auto* config_option =
      app.add_option("--config,-c", config_path, "TOML config file");
  auto* check_option = app.add_option(
      "--check-config", check_path,
      "check FILE (every setting, then the files and data directory it "
      "names) and exit: 0 if the daemon would start with it, 2 otherwise");
  config_option->excludes(check_option);
  app.add_option("--domain", domain, "this DS's domain name");
  app.add_option("--listen", listen, "public listener host:port");
  app.add_option("--admin-listen", admin_listen, "admin listener host:port");
  app.add_option("--data-dir", data_dir, "data directory");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off");
  app.add_option("--log-format", log_format, "text|json (one object per line)");
  app.add_option("--peer", o.peers, "peer DOMAIN=HOST:PORT (repeatable)");
  CLI11_PARSE(app, argc, argv);
  if (!domain.empty()) o.domain = domain;
  if (!listen.empty()) o.listen = listen;
  if (!admin_listen.empty()) o.admin_listen = admin_listen;
  if (!data_dir.empty()) o.data_dir = data_dir;
  if (!log_level.empty()) o.log_level = log_level;
  if (!log_format.empty()) o.log_format = log_format;
  if (!check_path.empty()) return CheckConfig(check_path, o);
  if (config_path.empty()) {
    std::cerr << "mimi-portd: --config is required\n" << app.help();
    return 2;
  }

  auto config = mimi::daemon::LoadConfigFile(config_path, o);
  if (!config.ok()) {
    std::cerr << "mimi-portd: " << config.status().detail() << "\n";
    return 2;
  }
  mimi::log::Configure(config->log_level, config->domain,
                       config->log_format == "json" ? mimi::log::Format::kJson
                                                    : mimi::log::Format::kText);
  if (auto s = mimi::failpoint::ArmFromEnvironment(); !s.ok()) {
    std::cerr << "mimi-portd: MIMI_FAILPOINTS: " << s.detail() << "\n";
    return 2;
  }

  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto daemon = mimi::daemon::Daemon::Create(*config, mimi::SystemClock::Get());
  if (!daemon.ok()) {
    std::cerr << "mimi-portd: " << daemon.status().ToString() << "\n";
    return daemon.status().code() == mimi::StatusCode::kInvalidArgument ? 2 : 1;
  }
  auto ports = (*daemon)->Start();
  if (!ports.ok()) {
    std::cerr << "mimi-portd: " << ports.status().ToString() << "\n";
    return 1;
  }
  const auto info_path = std::filesystem::path(config->data_dir) / mimi::admin_api::kDaemonInfoFile;
  {
    const auto tmp = info_path.string() + ".tmp";
    std::ofstream(tmp) << mimi::codec::DumpJson(nlohmann::json{
                              {"public_port", ports->public_port},
                              {"admin_port", ports->admin_port},
                              {"pid", getpid()}})
                       << "\n";
    std::filesystem::rename(tmp, info_path);
  }
  mimi::log::Info("ready: public port {}, admin port {}", ports->public_port,
                  ports->admin_port);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  mimi::log::Info("signal {}: draining", sig);
  (*daemon)->Stop();
  std::error_code ec;
  std::filesystem::remove(info_path, ec);
  mimi::log::Info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The only catch-all outside the HTTP handlers: an exception here is a bug.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mimi-portd: internal error: " << e.what() << "\n";
    return 70;
  }
}
