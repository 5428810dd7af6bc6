#include "testing/https_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

int UnusedLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace mimi::testing
