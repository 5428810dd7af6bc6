// PeerTransport: how the coordinator reaches the other DS (MigrationContent,
// MigrationAbort). An interface so that tests can cut, delay or fake the
// network; HttpsPeerTransport is the real one.
//
// HttpsPeerTransport verifies the peer's certificate against the configured
// CA bundle, sets TCP_NODELAY, and keeps a small pool of keep-alive
// connections per peer so that a burst of migrations does not pay a TLS
// handshake each. Any HTTP answer is returned as a PeerResponse (the caller
// reads the protocol's meaning from it); only a failure to get an answer is a
// Status (kUnavailable). A caller may follow a long upload through a
// ProgressFn, called as the body goes onto the wire. Thread-safe.
#ifndef MIMI_PROTOCOL_PEER_TRANSPORT_H_
#define MIMI_PROTOCOL_PEER_TRANSPORT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace httplib {
class Client;
}

namespace mimi::protocol {

inline constexpr char kContentType[] = "application/mimi-portability";

struct PeerResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Called with the bytes of the body written so far and the body's size;
// the last call has sent == total. Runs on the posting thread.
using ProgressFn = std::function<void(uint64_t sent, uint64_t total)>;

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // `progress` may be empty.
  virtual Result<PeerResponse> Post(const std::string& domain,
                                    const std::string& path, const Bytes& body,
                                    const ProgressFn& progress) = 0;
  Result<PeerResponse> Post(const std::string& domain, const std::string& path,
                            const Bytes& body) {
    return Post(domain, path, body, ProgressFn());
  }
};

struct HttpsPeerTransportOptions {
  // domain -> "host", port; unmapped domains use domain:443.
  std::function<std::pair<std::string, int>(const std::string&)> locate;
  bool plain_http = false;  // only for explicitly configured local use
  std::string ca_file;      // empty: the system store
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds io_timeout{60};  // large contents take a while
  size_t max_idle_per_peer = 8;
};

class HttpsPeerTransport final : public PeerTransport {
 public:
  explicit HttpsPeerTransport(HttpsPeerTransportOptions options);
  ~HttpsPeerTransport() override;

  using PeerTransport::Post;
  Result<PeerResponse> Post(const std::string& domain, const std::string& path,
                            const Bytes& body,
                            const ProgressFn& progress) override;

 private:
  std::unique_ptr<httplib::Client> Checkout(const std::string& domain);
  void Return(const std::string& domain, std::unique_ptr<httplib::Client> c);

  const HttpsPeerTransportOptions options_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_PEER_TRANSPORT_H_
