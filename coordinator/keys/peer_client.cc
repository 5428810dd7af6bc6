#include "keys/peer_client.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cctype>
#include <utility>

#include "log/log.h"
#include "mimi_portability/domain_name.h"

namespace mimi::keys {
namespace {

bool IsAddressLiteral(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// httplib connects to a mapped host only by numeric address
// (AI_NUMERICHOST), so a mapped host name is resolved here.
Result<std::string> NumericAddress(const std::string& host) {
  if (IsAddressLiteral(host)) return host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return UnavailableError("cannot resolve " + host + ": " +
                            (rc != 0 ? gai_strerror(rc) : "no address"));
  }
  char text[INET6_ADDRSTRLEN] = {};
  const void* addr =
      found->ai_family == AF_INET6
          ? static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in6*>(found->ai_addr)
                     ->sin6_addr)
          : static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in*>(found->ai_addr)
                     ->sin_addr);
  const char* ok = inet_ntop(found->ai_family, addr, text, sizeof(text));
  freeaddrinfo(found);
  if (ok == nullptr) return UnavailableError("cannot resolve " + host);
  return std::string(text);
}

template <typename Duration>
std::pair<time_t, time_t> SecUsec(Duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d);
  return {static_cast<time_t>(us.count() / 1'000'000),
          static_cast<time_t>(us.count() % 1'000'000)};
}

}  // namespace

PeerClient::PeerClient() = default;
PeerClient::~PeerClient() = default;
PeerClient::PeerClient(PeerClient&&) noexcept = default;
PeerClient& PeerClient::operator=(PeerClient&&) noexcept = default;

Result<PeerClient> MakePeerClient(std::string_view domain_in,
                                  const PeerClientOptions& options) {
  MIMI_RETURN_IF_ERROR(ValidateDomainName(domain_in));
  PeerClient c;
  c.domain = LowercaseDomain(domain_in);
  MIMI_ASSIGN_OR_RETURN(c.address, options.locator(c.domain));
  // The client is named by the domain, so that httplib sends it as SNI and
  // Host and checks the certificate against it; the address map alone says
  // where the socket connects.
  const std::string url =
      std::string(options.plain_http ? "http://" : "https://") + c.domain +
      ":" + std::to_string(c.address.port);
  c.http = std::make_unique<httplib::Client>(url);
  if (LowercaseDomain(c.address.host) != c.domain) {
    auto ip = NumericAddress(c.address.host);
    if (!ip.ok()) {
      return UnavailableError("peer " + c.domain + " at " + c.address.host +
                              ":" + std::to_string(c.address.port) + ": " +
                              ip.status().detail());
    }
    c.http->set_hostname_addr_map({{c.domain, *ip}});
  }
  c.http->set_tcp_nodelay(true);
  c.http->set_keep_alive(true);
  c.http->set_follow_location(false);
  auto [cs, cu] = SecUsec(options.connect_timeout);
  c.http->set_connection_timeout(cs, cu);
  auto [rs, ru] = SecUsec(options.read_timeout);
  c.http->set_read_timeout(rs, ru);
  auto [ws, wu] = SecUsec(options.write_timeout);
  c.http->set_write_timeout(ws, wu);
  if (!options.plain_http) {
    c.http->enable_server_certificate_verification(true);
    if (!options.ca_file.empty()) c.http->set_ca_cert_path(options.ca_file);
  }
  return c;
}

Status PeerClient::RequestError(std::string_view what,
                                httplib::Error error) const {
  const std::string where = std::string(what) + " at " + address.host + ":" +
                            std::to_string(address.port);
  switch (error) {
    case httplib::Error::SSLServerVerification:
    case httplib::Error::SSLLoadingCerts: {
      std::string why;
      if (error == httplib::Error::SSLLoadingCerts) {
        why = "the CA bundle could not be loaded";
      } else if (const long verify = http->get_openssl_verify_result();
                 verify != 0) {
        why = "certificate verify result " + std::to_string(verify) +
              " (chain not trusted)";
      } else {
        // httplib checks the chain first; a chain that verified means the
        // certificate does not name the domain.
        why = "certificate does not name " + domain;
      }
      log::Warn("peer TLS verification failed: {}: {}", where, why);
      return Status(StatusCode::kUnavailable, kPeerTlsReason,
                    where + ": TLS verification failed: " + why);
    }
    default:
      return UnavailableError(where + ": " + httplib::to_string(error));
  }
}

}  // namespace mimi::keys
