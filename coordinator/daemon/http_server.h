// HttpServer: one listener of mimi-portd (the public protocol listener or the
// loopback admin listener) on top of cpp-httplib, configured deliberately:
// TCP_NODELAY (without it every small exchange waits ~40 ms for delayed
// ACKs), a sized worker pool (one pool thread serves one keep-alive
// connection, so the pool bounds concurrent connections), bounded keep-alive,
// read/write timeouts and a body limit.
//
// Every route goes through one wrapper that is the catch-all site for
// exceptions (answered as 500 "internal" and logged), counts
// mimi_http_requests_total{listener,endpoint,status}, and turns errors into
// {"error": "<stable-code>", "detail": "..."}. Routes must be added before
// Start(); Start/Stop may be called from any thread; handlers run on the
// pool's threads concurrently.
#ifndef MIMI_DAEMON_HTTP_SERVER_H_
#define MIMI_DAEMON_HTTP_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "daemon/config.h"
#include "daemon/metrics.h"
#include "mimi_portability/status.h"

namespace mimi::daemon {

struct HttpServerOptions {
  std::string name = "public";  // the `listener` label in metrics and logs
  HostPort listen{"127.0.0.1", 0};  // port 0 = any free port
  bool plain_http = false;
  std::string cert_file;
  std::string key_file;
  int threads = 16;
  uint64_t max_body_bytes = 64ull << 20;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
  // Idle keep-alive connections give their pool thread back after this.
  std::chrono::seconds keep_alive_timeout{5};
  size_t keep_alive_max_count = 1000;
};

// HTTP status for a Status code; reasons refine some (e.g. payload-too-large).
int HttpStatusFor(const Status& status);
// Sets the status and the JSON error body; `extra` fields are merged in
// (e.g. {"moved_to": "target.test"}).
void ReplyError(httplib::Response& res, const Status& status,
                const nlohmann::json& extra = nlohmann::json::object());
void ReplyJson(httplib::Response& res, int http_status,
               const nlohmann::json& body);

class HttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  static Result<std::unique_ptr<HttpServer>> Create(HttpServerOptions options,
                                                    Metrics* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void Get(const std::string& pattern, Handler handler);
  void Post(const std::string& pattern, Handler handler);

  // Binds (resolving port 0) and serves on a background thread.
  Status Start();
  // The bound port, valid after Start().
  uint16_t port() const { return port_; }
  // Stops accepting; in-flight requests finish before it returns.
  void Stop();

  const HttpServerOptions& options() const { return options_; }

 private:
  HttpServer(HttpServerOptions options, Metrics* metrics,
             std::unique_ptr<httplib::Server> server);
  Handler Wrap(const std::string& pattern, Handler handler);

  HttpServerOptions options_;
  Metrics* metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> started_{false};
};

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_HTTP_SERVER_H_
