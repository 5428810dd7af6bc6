#include "protocol/peer_transport.h"

#include <httplib.h>

namespace mimi::protocol {

HttpsPeerTransport::HttpsPeerTransport(HttpsPeerTransportOptions options)
    : options_(std::move(options)) {}

HttpsPeerTransport::~HttpsPeerTransport() = default;

std::unique_ptr<httplib::Client> HttpsPeerTransport::Checkout(
    const std::string& domain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& pool = idle_[domain];
    if (!pool.empty()) {
      auto c = std::move(pool.back());
      pool.pop_back();
      return c;
    }
  }
  auto [host, port] = options_.locate ? options_.locate(domain)
                                      : std::pair<std::string, int>{domain, 443};
  const std::string url = std::string(options_.plain_http ? "http://" : "https://") +
                          host + ":" + std::to_string(port);
  auto c = std::make_unique<httplib::Client>(url);
  c->set_tcp_nodelay(true);
  c->set_keep_alive(true);
  c->set_connection_timeout(options_.connect_timeout);
  c->set_read_timeout(options_.io_timeout);
  c->set_write_timeout(options_.io_timeout);
  if (!options_.plain_http) {
    c->enable_server_certificate_verification(true);
    if (!options_.ca_file.empty()) c->set_ca_cert_path(options_.ca_file.c_str());
  }
  return c;
}

void HttpsPeerTransport::Return(const std::string& domain,
                                std::unique_ptr<httplib::Client> c) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& pool = idle_[domain];
  if (pool.size() < options_.max_idle_per_peer) pool.push_back(std::move(c));
}

Result<PeerResponse> HttpsPeerTransport::Post(const std::string& domain,
                                              const std::string& path,
                                              const Bytes& body) {
  std::unique_ptr<httplib::Client> client = Checkout(domain);
  auto res = client->Post(path.c_str(), reinterpret_cast<const char*>(body.data()),
                          body.size(), kContentType);
  if (!res) {
    // A broken connection is not returned to the pool.
    return UnavailableError("peer " + domain + ": " +
                            httplib::to_string(res.error()));
  }
  PeerResponse out{res->status, res->get_header_value("Content-Type"),
                   std::move(res->body)};
  Return(domain, std::move(client));
  return out;
}

}  // namespace mimi::protocol
