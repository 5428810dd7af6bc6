#include "testing/loopback_port.h"
#include "testing/two_daemons.h"

#include "protocol/client_tokens.h"
#include "testing/https_server.h"

namespace mimi::testing {

TwoDaemons::TwoDaemons(const Clock& clock,
                       std::function<void(daemon::Config&)> tweak,
                       const Clock* monotonic)
    : clock_(clock),
      monotonic_(monotonic != nullptr ? monotonic : &still_monotonic_) {
  std::filesystem::create_directories(dir_ / "ca");
  auto ca = TestCa::Create(dir_ / "ca");
  if (!ca.ok()) {
    error_ = "test CA: " + ca.status().ToString();
    return;
  }
  ca_file_ = ca->ca_cert_path().string();
  const uint16_t source_port = static_cast<uint16_t>(UnusedLoopbackPort());
  uint16_t target_port = static_cast<uint16_t>(UnusedLoopbackPort());
  while (target_port == source_port) {
    target_port = static_cast<uint16_t>(UnusedLoopbackPort());
  }
  auto make = [&](const std::string& domain, uint16_t port,
                  const std::string& peer, uint16_t peer_port,
                  daemon::Config* config) -> bool {
    auto cert = ca->IssueLeaf(domain, {domain});
    if (!cert.ok()) {
      error_ = "leaf for " + domain + ": " + cert.status().ToString();
      return false;
    }
    daemon::Config& c = *config;
    c.domain = domain;
    c.listen = {"127.0.0.1", port};
    c.admin_enabled = false;
    c.data_dir = (dir_ / domain).string();
    c.tls.cert_file = cert->cert_path.string();
    c.tls.key_file = cert->key_path.string();
    c.tls.ca_file = ca_file_;
    c.peers[peer] = {"127.0.0.1", peer_port};
    c.ciphersuites = {1, 2, 3};
    c.server_threads = 8;
    c.keep_alive_seconds = 1;  // so that stopping does not wait long
    c.recovery.scan_interval_ms = 50;
    c.recovery.backoff_initial_ms = 20;
    c.recovery.backoff_max_ms = 200;
    c.recovery.lease_ms = 2000;
    if (tweak) tweak(c);
    return true;
  };
  if (!make("source.test", source_port, "target.test", target_port, &source_config_) ||
      !make("target.test", target_port, "source.test", source_port, &target_config_)) {
    return;
  }
  auto target = daemon::Daemon::Create(target_config_, clock_, monotonic_);
  if (!target.ok()) {
    error_ = "target: " + target.status().ToString();
    return;
  }
  target_ = std::move(target).value();
  auto tp = target_->Start();
  if (!tp.ok()) {
    error_ = "target start: " + tp.status().ToString();
    return;
  }
  target_ports_ = *tp;
  Status s = RestartSource();
  if (!s.ok()) {
    error_ = "source: " + s.ToString();
    return;
  }
  auto token = protocol::ClientTokens::Issue(
      std::filesystem::path(target_config_.data_dir) / "client_tokens", "bob");
  if (!token.ok()) {
    error_ = "client token: " + token.status().ToString();
    return;
  }
  client_token_ = *token;
  // Members create their groups at the source's embedded DS with a client
  // token of the source.
  auto source_token = protocol::ClientTokens::Issue(
      std::filesystem::path(source_config_.data_dir) / "client_tokens", "alice");
  if (!source_token.ok()) {
    error_ = "source client token: " + source_token.status().ToString();
    return;
  }
  source_client_token_ = *source_token;
  ok_ = true;
}

TwoDaemons::~TwoDaemons() {
  if (source_) source_->Stop();
  if (target_) target_->Stop();
}

void TwoDaemons::StopSource() {
  if (source_) source_->Stop();
  source_.reset();
}

Status TwoDaemons::RestartSource() {
  StopSource();
  MIMI_ASSIGN_OR_RETURN(
      source_, daemon::Daemon::Create(source_config_, clock_, monotonic_));
  MIMI_ASSIGN_OR_RETURN(source_ports_, source_->Start());
  return Status::Ok();
}

std::unique_ptr<httplib::Client> TwoDaemons::Client(uint16_t port) const {
  auto c = std::make_unique<httplib::Client>("https://127.0.0.1:" +
                                             std::to_string(port));
  c->set_ca_cert_path(ca_file_.c_str());
  c->enable_server_certificate_verification(true);
  c->set_tcp_nodelay(true);
  c->set_read_timeout(std::chrono::seconds(30));
  return c;
}

std::unique_ptr<httplib::Client> TwoDaemons::SourceClient() const {
  return Client(source_ports_.public_port);
}
std::unique_ptr<httplib::Client> TwoDaemons::TargetClient() const {
  return Client(target_ports_.public_port);
}

std::unique_ptr<store::SqliteStore> TwoDaemons::SourceStore() const {
  return std::move(store::SqliteStore::Open(daemon::Daemon::DatabasePath(source_config_),
                                            clock_))
      .value();
}
std::unique_ptr<store::SqliteStore> TwoDaemons::TargetStore() const {
  return std::move(store::SqliteStore::Open(daemon::Daemon::DatabasePath(target_config_),
                                            clock_))
      .value();
}
std::unique_ptr<embedded_ds::EmbeddedDs> TwoDaemons::SourceDs() const {
  return std::move(embedded_ds::EmbeddedDs::Open(
                       daemon::Daemon::DatabasePath(source_config_), clock_))
      .value();
}
std::unique_ptr<embedded_ds::EmbeddedDs> TwoDaemons::TargetDs() const {
  return std::move(embedded_ds::EmbeddedDs::Open(
                       daemon::Daemon::DatabasePath(target_config_), clock_))
      .value();
}

}  // namespace mimi::testing
