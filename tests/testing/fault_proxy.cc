#include "testing/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace mimi::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPollMs = 20;

// Closes with a reset (RST) rather than an orderly FIN.
void CloseReset(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  close(fd);
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

struct FaultProxy::Conn {
  int client_fd = -1;
  FaultMode mode = FaultMode::kPass;
  int param = 0;
  std::atomic<bool> dropped{false};
  std::atomic<bool> done{false};
  std::thread thread;
};

const char* FaultModeName(FaultMode mode) {
  switch (mode) {
    case FaultMode::kPass:
      return "pass";
    case FaultMode::kLatency:
      return "latency";
    case FaultMode::kReset:
      return "reset";
    case FaultMode::kBlackHole:
      return "black_hole";
    case FaultMode::kCutRequest:
      return "cut_request";
    case FaultMode::kCutResponse:
      return "cut_response";
    case FaultMode::kDown:
      return "down";
  }
  return "?";
}

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(uint16_t upstream_port,
                                                      uint16_t listen_port,
                                                      uint16_t fallback_port) {
  std::unique_ptr<FaultProxy> p(
      new FaultProxy(upstream_port, listen_port, fallback_port));
  MIMI_RETURN_IF_ERROR(p->Listen());
  p->acceptor_ = std::thread([raw = p.get()] { raw->AcceptLoop(); });
  return p;
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::list<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DropAllLocked();
    conns.swap(conns_);
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
  }
  for (auto& c : conns) {
    if (c->thread.joinable()) c->thread.join();
  }
}

Status FaultProxy::Listen() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return InternalError(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string why = std::strerror(errno);
    close(fd);
    return UnavailableError("proxy listen on " + std::to_string(port_) + ": " +
                            why);
  }
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  return Status::Ok();
}

FaultMode FaultProxy::mode() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mode_;
}

Status FaultProxy::Set(FaultMode mode, int param) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = mode;
    param_ = param;
    DropAllLocked();
  }
  // The acceptor opens and closes the listener; wait until it has.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if ((listen_fd_ >= 0) == (mode != FaultMode::kDown)) return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return UnavailableError("proxy could not reach mode " +
                          std::string(FaultModeName(mode)) + ": " +
                          last_error_);
}

void FaultProxy::DropAllLocked() {
  for (auto& c : conns_) c->dropped = true;
}

void FaultProxy::ReapFinishedLocked() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if ((*it)->done) {
      if ((*it)->thread.joinable()) (*it)->thread.join();
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    int fd = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ReapFinishedLocked();
      if (mode_ == FaultMode::kDown && listen_fd_ >= 0) {
        close(listen_fd_);  // pending connections are reset: refused
        listen_fd_ = -1;
      } else if (mode_ != FaultMode::kDown && listen_fd_ < 0) {
        if (Status s = Listen(); !s.ok()) last_error_ = s.detail();  // retried
      }
      fd = listen_fd_;
    }
    if (fd < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
      continue;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, kPollMs) <= 0) continue;
    int client = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ++accepted_;
    auto conn = std::make_shared<Conn>();
    conn->client_fd = client;
    std::lock_guard<std::mutex> lock(mu_);
    conn->mode = mode_;
    conn->param = param_;
    conns_.push_back(conn);
    conn->thread = std::thread([this, conn] {
      Serve(conn);
      conn->done = true;
    });
  }
}

void FaultProxy::Serve(std::shared_ptr<Conn> conn) {
  const int client = conn->client_fd;
  const FaultMode mode = conn->mode;
  const int param = conn->param;
  auto over = [&] { return conn->dropped.load() || stopping_.load(); };
  char buf[16384];

  if (mode == FaultMode::kReset) {
    ++faulted_;
    CloseReset(client);
    return;
  }
  if (mode == FaultMode::kBlackHole) {
    ++faulted_;
    while (!over()) {
      pollfd p{client, POLLIN, 0};
      if (poll(&p, 1, kPollMs) <= 0) continue;
      if (recv(client, buf, sizeof(buf), 0) <= 0) break;  // discarded
    }
    CloseReset(client);
    return;
  }
  int upstream = ConnectLoopback(upstream_port_);
  if (upstream < 0 && fallback_port_ != 0) {
    upstream = ConnectLoopback(fallback_port_);
  }
  if (upstream < 0) {
    CloseReset(client);
    return;
  }
  bool server_spoke = false;   // the upstream has sent something
  bool second_flight = false;  // the client sent after that (the request)
  size_t request_bytes = 0;    // bytes of that second flight forwarded
  bool holding = false;        // kCutResponse: swallowing the answer
  Clock::time_point hold_since;
  bool faulted = false;
  bool clean_end = false;
  while (!over()) {
    if (holding &&
        Clock::now() - hold_since >= std::chrono::milliseconds(param)) {
      faulted = true;
      break;
    }
    pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    if (poll(p, 2, kPollMs) <= 0) continue;
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(client, buf, sizeof(buf), 0);
      if (n <= 0) {
        clean_end = true;
        break;
      }
      if (mode == FaultMode::kLatency) {
        std::this_thread::sleep_for(std::chrono::milliseconds(param));
      }
      size_t forward = static_cast<size_t>(n);
      if (server_spoke) second_flight = true;
      if (second_flight && mode == FaultMode::kCutRequest) {
        const size_t allowed = request_bytes >= static_cast<size_t>(param)
                                   ? 0
                                   : param - request_bytes;
        if (forward > allowed) {
          (void)WriteAll(upstream, buf, allowed);
          faulted = true;
          break;
        }
      }
      if (second_flight) request_bytes += forward;
      if (!WriteAll(upstream, buf, forward)) break;
    }
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(upstream, buf, sizeof(buf), 0);
      if (n <= 0) {
        clean_end = !holding;
        if (holding) faulted = true;
        break;
      }
      if (mode == FaultMode::kCutResponse && second_flight) {
        if (!holding) {
          holding = true;
          hold_since = Clock::now();
        }
        continue;  // swallowed
      }
      if (mode == FaultMode::kLatency) {
        std::this_thread::sleep_for(std::chrono::milliseconds(param));
      }
      server_spoke = true;
      if (!WriteAll(client, buf, static_cast<size_t>(n))) break;
    }
  }
  if (faulted) ++faulted_;
  if (clean_end) {
    close(upstream);
    close(client);
  } else {
    CloseReset(upstream);
    CloseReset(client);
  }
}

}  // namespace mimi::testing
