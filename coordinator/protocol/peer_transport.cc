#include "protocol/peer_transport.h"

#include <httplib.h>

#include <algorithm>

#include "mimi_portability/endpoints.h"

namespace mimi::protocol {
namespace {

// Small enough that a 64 MiB content reports progress often, large enough
// that the per-chunk overhead (one TLS record batch each) stays invisible.
constexpr size_t kChunkBytes = 256 * 1024;

}  // namespace

Result<PeerResponse> PeerTransport::PostStream(const std::string& domain,
                                               const std::string& path,
                                               const BodySource& body,
                                               const ProgressFn& progress) {
  Bytes whole(body.size);
  MIMI_RETURN_IF_ERROR(body.read(0, whole));
  return Post(domain, path, whole, progress);
}

HttpsPeerTransport::HttpsPeerTransport(HttpsPeerTransportOptions options)
    : options_(std::move(options)) {}

HttpsPeerTransport::~HttpsPeerTransport() = default;

Result<keys::PeerClient> HttpsPeerTransport::Checkout(
    const std::string& domain) {
  {
    MutexLock lock(mu_);
    auto& pool = idle_[domain];
    if (!pool.empty()) {
      keys::PeerClient c = std::move(pool.back());
      pool.pop_back();
      return c;
    }
  }
  return keys::MakePeerClient(domain, options_.client);
}

void HttpsPeerTransport::Return(const std::string& domain,
                                keys::PeerClient c) {
  MutexLock lock(mu_);
  auto& pool = idle_[domain];
  if (pool.size() < options_.max_idle_per_peer) pool.push_back(std::move(c));
}

Result<PeerResponse> HttpsPeerTransport::Post(const std::string& domain,
                                              const std::string& path,
                                              const Bytes& body,
                                              const ProgressFn& progress) {
  MIMI_ASSIGN_OR_RETURN(keys::PeerClient client, Checkout(domain));
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
                            ? client.http->Post(path, std::string(),
                                                endpoints::kMediaType)
                            : client.http->Post(path, total, provider,
                                                endpoints::kMediaType);
  if (res && total == 0 && progress) progress(0, 0);
  if (!res) {
    // A broken connection is not returned to the pool.
    return client.RequestError("peer " + client.domain, res.error());
  }
  PeerResponse out{res->status, res->get_header_value("Content-Type"),
                   std::move(res->body)};
  Return(domain, std::move(client));
  return out;
}

Result<PeerResponse> HttpsPeerTransport::PostStream(
    const std::string& domain, const std::string& path, const BodySource& body,
    const ProgressFn& progress) {
  if (body.size == 0) return Post(domain, path, Bytes(), progress);
  MIMI_ASSIGN_OR_RETURN(keys::PeerClient client, Checkout(domain));
  const uint64_t total = body.size;
  Bytes chunk(static_cast<size_t>(std::min<uint64_t>(total, kChunkBytes)));
  Status read_status;
  auto provider = [&](size_t offset, size_t length, httplib::DataSink& sink) {
    const size_t n = std::min({length, kChunkBytes, chunk.size()});
    read_status = body.read(offset, std::span<uint8_t>(chunk.data(), n));
    if (!read_status.ok()) return false;
    if (!sink.write(reinterpret_cast<const char*>(chunk.data()), n)) {
      return false;
    }
    if (progress) progress(offset + n, total);
    return true;
  };
  httplib::Result res =
      client.http->Post(path, total, provider, endpoints::kMediaType);
  // A body that could not be read is this side's failure, not the peer's;
  // the connection, cut mid-body, is not returned to the pool.
  if (!read_status.ok()) return read_status;
  if (!res) return client.RequestError("peer " + client.domain, res.error());
  PeerResponse out{res->status, res->get_header_value("Content-Type"),
                   std::move(res->body)};
  Return(domain, std::move(client));
  return out;
}

}  // namespace mimi::protocol
