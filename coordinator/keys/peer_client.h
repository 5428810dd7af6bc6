// PeerClient: the one HTTP(S) client this daemon uses to reach another
// Delivery Service, shared by the key resolver (keys/peer_key_resolver.h)
// and the peer transport (protocol/peer_transport.h) so that both check a
// peer the same way.
//
// A peer is known by its domain. The TCP connection goes to the address the
// PeerLocator maps the domain to (by default the domain itself, port 443),
// but TLS is about the domain, never the address: the ClientHello carries
// SNI = the domain, and the certificate must chain to the configured CA
// bundle (or the system store) and name the domain (docs/protocol.md §2.5).
// A certificate for another domain from the same CA is
// refused even when it also names the mapped IP address. A mapped host name
// (not an address literal) is resolved when the client is made and its first
// address is used.
//
// A request that gets no answer becomes a Status through RequestError():
// kUnavailable (retryable) with reason "peer-tls" when the peer's
// certificate could not be verified (logged at warn, naming the peer and
// its address), and without a reason for every other failure (refused
// connection, timeout, broken TLS handshake, ...).
//
// MakePeerClient is thread-safe. A PeerClient is used by one thread at a
// time (httplib clients are not synchronised); move it between threads.
#ifndef MIMI_KEYS_PEER_CLIENT_H_
#define MIMI_KEYS_PEER_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "keys/peer_address.h"
#include "mimi_portability/status.h"

namespace httplib {
class Client;
enum class Error;
}  // namespace httplib

namespace mimi::keys {

// The Status reason of a peer whose certificate did not verify.
inline constexpr char kPeerTlsReason[] = "peer-tls";

struct PeerClientOptions {
  PeerLocator locator = DefaultPeerLocator();
  // Plain HTTP to peers: only for explicitly configured local use
  // (tls.insecure_plain_http).
  bool plain_http = false;
  std::string ca_file;  // PEM bundle of trusted CAs; empty: the system store
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds read_timeout{60'000};
  std::chrono::milliseconds write_timeout{60'000};
};

struct PeerClient {
  PeerClient();
  ~PeerClient();
  PeerClient(PeerClient&&) noexcept;
  PeerClient& operator=(PeerClient&&) noexcept;

  std::string domain;   // lowercase
  PeerAddress address;  // where the connection goes
  // Host, SNI and certificate name: `domain`; keep-alive on, TCP_NODELAY,
  // redirects not followed.
  std::unique_ptr<httplib::Client> http;

  // The Status for a request on `http` that failed with `error` (see the
  // file comment). `what` starts the detail ("key document of x.test").
  Status RequestError(std::string_view what, httplib::Error error) const;
};

// kInvalidArgument for a domain that is not a DNS name; kUnavailable when a
// mapped host name does not resolve. Nothing is connected yet.
Result<PeerClient> MakePeerClient(std::string_view domain,
                                  const PeerClientOptions& options);

}  // namespace mimi::keys

#endif  // MIMI_KEYS_PEER_CLIENT_H_
