#include "protocol/peer_transport.h"

#include <httplib.h>

#include <algorithm>

namespace mimi::protocol {
namespace {

// Small enough that a 64 MiB content reports progress often, large enough
// that the per-chunk overhead (one TLS record batch each) stays invisible.
constexpr size_t kChunkBytes = 256 * 1024;

}  // namespace

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
                                              const Bytes& body,
                                              const ProgressFn& progress) {
  std::unique_ptr<httplib::Client> client = Checkout(domain);
  // A content provider streams from `body` itself: the plain overload would
  // copy the whole body into the request first (64 MiB contents), and the
  // chunks are where progress is observed.
  const uint64_t total = body.size();
  auto provider = [&body, &progress, total](size_t offset, size_t length,
                                            httplib::DataSink& sink) {
    const size_t n = std::min(length, kChunkBytes);
    if (!sink.write(reinterpret_cast<const char*>(body.data()) + offset, n)) {
      return false;
    }
    if (progress) progress(offset + n, total);
    return true;
  };
  // httplib sends no body for a provider of length 0, so an empty body goes
  // the plain way.
  httplib::Result res = total == 0
                            ? client->Post(path, std::string(), kContentType)
                            : client->Post(path, total, provider, kContentType);
  if (res && total == 0 && progress) progress(0, 0);
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
