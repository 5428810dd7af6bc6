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
// {"error": "<stable-code>", "detail": "..."}. Request data never reaches a
// JSON reply or a log line unescaped (codec/safe_text.h).
//
// Before a body is read, a gate refuses what the protocol never sends
// (docs/operations.md "HTTP limits"): any Content-Encoding (415), a body
// without Content-Length or chunked framing (411), a Content-Length over
// the limit (413), too many or too large headers (431); Range headers are
// ignored. POST bodies are read through a bounded reader, so a chunked body
// is refused with 413 as soon as it passes the limit; a streaming route
// (PostStreaming) gets the body through the same reader piece by piece. A refusal that leaves
// body bytes unread closes the connection, so they are never parsed as a
// request. Refusals are counted in mimi_refusals_total{listener,reason} and
// logged at warn level, rate-limited per reason.
//
// Routes must be added before Start(); Start/Stop may be called from any
// thread; handlers run on the pool's threads concurrently.
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
#include "daemon/log_rate_limiter.h"
#include "daemon/metrics.h"
#include "mimi_portability/bytes.h"
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
  // Bounds each wait for the client: every step of the TLS handshake (a
  // silent client gives its worker back after this) and every read of a
  // request. httplib 0.11.4 uses one setting for both.
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{30};
  // Request headers beyond these are refused with 431 (httplib's own four
  // REMOTE_/LOCAL_ entries are not counted).
  size_t max_header_count = 100;
  size_t max_header_bytes = 64 * 1024;
  // 503 details name peers' addresses and TLS results: log them, and
  // answer a generic detail (the public listener).
  bool redact_unavailable_details = true;
  // Security-event log lines per second per refusal reason.
  int refusal_log_lines_per_second = 5;
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
// Invalid UTF-8 anywhere in `body` is replaced, never thrown on; request
// text should go through codec::SafeText before it gets here.
void ReplyJson(httplib::Response& res, int http_status,
               const nlohmann::json& body);
// A refusal after which the connection is closed: for requests whose body
// was not (fully) read, so that the rest is never taken for a request.
void ReplyErrorAndClose(httplib::Response& res, int http_status,
                        const Status& status);

// The pool's counters, shared with the metrics collectors (http_server.cc).
struct HttpPoolState;

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

  // A POST route that takes its body as it arrives instead of in
  // req.body. The handler gets a BodyReader: it calls it once with a sink
  // for the pieces of the body and `declared`, the Content-Length (0 when
  // chunked). Limits, refusals and their replies are Post's: when the body
  // passes max_body_bytes (as it arrives, chunked or not) or cannot be read,
  // the reader answers 413 or 400 itself and returns false, and the
  // handler returns at once; the sink has then had only bytes within the
  // limit and must keep nothing of them.
  using BodySink = std::function<void(ByteSpan piece)>;
  using BodyReader = std::function<bool(
      const std::function<void(uint64_t declared)>& begin, const BodySink& sink)>;
  using StreamHandler = std::function<void(
      const httplib::Request&, httplib::Response&, const BodyReader&)>;
  void PostStreaming(const std::string& pattern, StreamHandler handler);

  // Binds (resolving port 0) and serves on a background thread.
  Status Start();
  // The bound port, valid after Start().
  uint16_t port() const { return port_; }
  // Stops accepting; in-flight requests finish before it returns.
  void Stop();
  // Pool threads serving a connection now (also a /metrics gauge); a
  // connection holds its thread from accept (TLS handshake included) to
  // close.
  int busy_workers() const;

  const HttpServerOptions& options() const { return options_; }

 private:
  HttpServer(HttpServerOptions options, Metrics* metrics,
             std::unique_ptr<httplib::Server> server);
  Handler Wrap(const std::string& pattern, Handler handler);
  // Reads the body through `reader` up to the limit, handing pieces to
  // `sink`; false when it answered a refusal itself.
  static bool ReadBounded(const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader, uint64_t limit,
                          const BodySink& sink);
  // The gate before any body is read; Handled = refused.
  httplib::Server::HandlerResponse Gate(const httplib::Request& req,
                                       httplib::Response& res);
  void LogRefusal(const httplib::Request& req, const httplib::Response& res,
                  const std::string& reason);

  HttpServerOptions options_;
  Metrics* metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> started_{false};
  std::shared_ptr<HttpPoolState> pool_;
  std::unique_ptr<LogRateLimiter> refusal_log_;
};

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_HTTP_SERVER_H_
