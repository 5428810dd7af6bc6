// PeerTransport: how the coordinator reaches the other DS (MigrationContent,
// MigrationAbort), posting bodies as mimi_portability/endpoints.h's
// kMediaType. An interface so that tests can cut, delay or fake the
// network; HttpsPeerTransport is the real one.
//
// HttpsPeerTransport reaches a peer through keys/peer_client.h (the client
// the key resolver uses too): it connects to the peer's mapped address but
// sends SNI = the peer's domain and checks the certificate against that
// domain and the configured CA bundle. It sets TCP_NODELAY and keeps a small
// pool of keep-alive connections per peer so that a burst of migrations
// does not pay a TLS handshake each. Any HTTP answer is returned as a
// PeerResponse (the caller reads the protocol's meaning from it); only a
// failure to get an answer is a Status (kUnavailable; reason "peer-tls" when
// the certificate did not verify). A caller may follow a long upload
// through a ProgressFn, called as the body goes onto the wire. PostStream
// sends a body read in pieces (BodySource) as it is read. Thread-safe.
#ifndef MIMI_PROTOCOL_PEER_TRANSPORT_H_
#define MIMI_PROTOCOL_PEER_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codec/mutex.h"
#include "keys/peer_client.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::protocol {

struct PeerResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Called with the bytes of the body written so far and the body's size;
// the last call has sent == total. Runs on the posting thread.
using ProgressFn = std::function<void(uint64_t sent, uint64_t total)>;

// A body read in pieces from where it is kept (a stored MigrationContent of
// tens of MiB is never loaded whole to be sent): `read` fills its span with
// the body's bytes from the offset on.
struct BodySource {
  uint64_t size = 0;
  std::function<Status(uint64_t offset, std::span<uint8_t> out)> read;
};

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // Posts `body` as it is read. The default reads it whole and calls Post;
  // HttpsPeerTransport streams it. A failed read is returned as it is.
  virtual Result<PeerResponse> PostStream(const std::string& domain,
                                          const std::string& path,
                                          const BodySource& body,
                                          const ProgressFn& progress);
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
  // Where peers are, TLS trust and timeouts. Large contents take a while,
  // hence the long read/write timeouts by default.
  keys::PeerClientOptions client;
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
  // Reads and sends the body in chunks of 256 KiB: one chunk in memory.
  Result<PeerResponse> PostStream(const std::string& domain,
                                  const std::string& path,
                                  const BodySource& body,
                                  const ProgressFn& progress) override;

 private:
  Result<keys::PeerClient> Checkout(const std::string& domain) EXCLUDES(mu_);
  void Return(const std::string& domain, keys::PeerClient c) EXCLUDES(mu_);

  const HttpsPeerTransportOptions options_;
  Mutex mu_;
  std::map<std::string, std::vector<keys::PeerClient>> idle_ GUARDED_BY(mu_);
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_PEER_TRANSPORT_H_
