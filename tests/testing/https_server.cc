#include "testing/https_server.h"

#include <chrono>

namespace mimi::testing {

TestHttpsServer::TestHttpsServer(const LeafCert& leaf)
    : server_(std::make_unique<httplib::SSLServer>(leaf.cert_path.c_str(),
                                                   leaf.key_path.c_str())) {}

TestHttpsServer::~TestHttpsServer() { Stop(); }

Status TestHttpsServer::Start() {
  if (!server_->is_valid()) {
    return InternalError("SSLServer could not load its certificate or key");
  }
  server_->set_tcp_nodelay(true);
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) return InternalError("cannot bind a loopback port");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // The socket already accepts connections (the kernel queues them); waiting
  // for is_running() just makes Stop() right after Start() well defined.
  for (int i = 0; i < 500 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!server_->is_running()) return InternalError("server did not start");
  return Status::Ok();
}

void TestHttpsServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace mimi::testing
