#include "daemon/http_server.h"

#include <charconv>
#include <exception>
#include <utility>

#include "codec/json_text.h"
#include "codec/safe_text.h"
#include "log/log.h"
#include "mimi_portability/ds_reason.h"
#include "store/store.h"

namespace mimi::daemon {
namespace {

using codec::SafeText;
using HandlerResponse = httplib::Server::HandlerResponse;

constexpr char kRequestsTotal[] = "mimi_http_requests_total";
constexpr char kRefusalsTotal[] = "mimi_refusals_total";

// Per-request state of the request being served on this thread. httplib
// runs the gate, the handler, the error handler and the logger of one
// request on one pool thread, in that order; the gate resets it.
//
// The route pattern: the logger labels metrics by route, not by raw path
// (which holds ids).
thread_local const std::string* t_endpoint = nullptr;
// The stable reason of the last error reply, for the refusal counter.
thread_local std::string t_reason;
// Whether the gate refused the request.
thread_local bool t_gate_refused = false;
// The serving listener's options (redaction of 503 details).
thread_local const HttpServerOptions* t_options = nullptr;

constexpr const char* kHttplibHeaders[] = {"REMOTE_ADDR", "REMOTE_PORT",
                                           "LOCAL_ADDR", "LOCAL_PORT"};

bool IsHttplibHeader(const std::string& name) {
  for (const char* h : kHttplibHeaders) {
    if (name == h) return true;
  }
  return false;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsBodyMethod(const std::string& method) {
  // The methods whose body httplib reads (detail::expect_content).
  return method == "POST" || method == "PUT" || method == "PATCH" ||
         method == "DELETE" || method == "PRI";
}

// Range is ignored (RFC 9110 §14.2 allows it): no reply here is large
// enough to need it, and httplib would otherwise answer 2,000 ranges of a
// small document with a reply thousands of times its size. httplib parses
// the header into the Request before any hook runs and hands hooks a const
// view of its own non-const local Request, so the cast is well-defined.
void DropRanges(const httplib::Request& req) {
  const_cast<httplib::Request&>(req).ranges.clear();
}

// Refusal reasons that are security events however they were produced.
bool IsRefusalStatus(int status) {
  switch (status) {
    case 401: case 403: case 411: case 413: case 415: case 416: case 431:
      return true;
    default:
      return false;
  }
}

}  // namespace

// Workers busy and connections waiting for one; shared with the metrics
// collectors, which may outlive the server.
struct HttpPoolState {
  explicit HttpPoolState(int n) : threads(n) {}
  const int threads;
  std::atomic<int> busy{0};
  std::atomic<int> queued{0};
};

namespace {

// httplib's ThreadPool, counting. A connection is one job from accept to
// close, so `busy` is the number of connections being served.
class CountingPool final : public httplib::TaskQueue {
 public:
  CountingPool(size_t n, std::shared_ptr<HttpPoolState> state)
      : pool_(n), state_(std::move(state)) {}
  void enqueue(std::function<void()> fn) override {
    state_->queued.fetch_add(1);
    pool_.enqueue([fn = std::move(fn), state = state_] {
      state->queued.fetch_sub(1);
      state->busy.fetch_add(1);
      struct Done {
        HttpPoolState* s;
        ~Done() { s->busy.fetch_sub(1); }
      } done{state.get()};
      fn();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  std::shared_ptr<HttpPoolState> state_;
};

}  // namespace

int HttpStatusFor(const Status& status) {
  const std::string_view reason = status.reason();
  if (reason == "payload-too-large") return 413;
  if (reason == "wrong-content-type") return 415;
  if (reason == ds_reason::kMoved) return 410;
  if (reason == "unauthenticated") return 401;
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kMalformed: return 400;
    case StatusCode::kInvalidArgument: return 422;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kUnsupported: return 422;
    case StatusCode::kBadSignature: return 403;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

void ReplyJson(httplib::Response& res, int http_status,
               const nlohmann::json& body) {
  res.status = http_status;
  // Replace, never throw: a throw here would escape the catch-all sites
  // (the error handler runs outside them).
  res.set_content(codec::DumpJson(body, -1, codec::InvalidUtf8::kReplace),
                  "application/json");
}

namespace {

nlohmann::json ErrorBody(const Status& status) {
  std::string detail = SafeText(status.detail());
  if (status.code() == StatusCode::kUnavailable && t_options != nullptr &&
      t_options->redact_unavailable_details) {
    // Peers' addresses, ports and TLS results are for the operator.
    static LogRateLimiter limiter(5, [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    });
    if (std::optional<uint64_t> dropped = limiter.Admit("unavailable")) {
      log::Warn("{}: answering 503 {}: {}{}", t_options->name,
                SafeText(status.reason()), detail,
                *dropped == 0 ? std::string()
                              : " (" + std::to_string(*dropped) +
                                    " more like it not logged)");
    }
    // The disk's trouble is this DS's own and says nothing about peers, but
    // the store's detail names files: the kind of trouble is enough.
    detail = status.reason() == store::kStorageUnavailable
                 ? std::string("this DS's storage refuses writes (") +
                       (status.detail().find("disk full") != std::string::npos
                            ? "disk full"
                            : "I/O error") +
                       "); retry later"
                 : "a peer or a local resource is unavailable; retry later";
  }
  t_reason = std::string(status.reason());
  return {{"error", SafeText(status.reason())}, {"detail", detail}};
}

}  // namespace

void ReplyError(httplib::Response& res, const Status& status,
                const nlohmann::json& extra) {
  nlohmann::json body = ErrorBody(status);
  for (const auto& [key, value] : extra.items()) body[key] = value;
  if (status.code() == StatusCode::kUnavailable) {
    res.set_header("Retry-After", "1");
  }
  ReplyJson(res, HttpStatusFor(status), body);
}

void ReplyErrorAndClose(httplib::Response& res, int http_status,
                        const Status& status) {
  const std::string body =
      codec::DumpJson(ErrorBody(status), -1, codec::InvalidUtf8::kReplace);
  res.status = http_status;
  res.body.clear();
  res.set_header("Connection", "close");
  // httplib 0.11.4 closes a connection only when writing the reply fails.
  // A chunked provider that writes the whole reply, ends it, and then
  // reports failure gives the client a complete reply and closes.
  res.set_chunked_content_provider(
      "application/json", [body](size_t, httplib::DataSink& sink) {
        sink.write(body.data(), body.size());
        sink.done();
        return false;
      });
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options,
                                                       Metrics* metrics) {
  std::unique_ptr<httplib::Server> server;
  if (options.plain_http) {
    server = std::make_unique<httplib::Server>();
  } else {
    server = std::make_unique<httplib::SSLServer>(options.cert_file.c_str(),
                                                  options.key_file.c_str());
    if (!server->is_valid()) {
      return InvalidArgumentError(
          "tls: cannot load certificate " + options.cert_file + " / key " +
          options.key_file + " (unreadable, not PEM, or they do not match)");
    }
  }
  return std::unique_ptr<HttpServer>(
      new HttpServer(std::move(options), metrics, std::move(server)));
}

HttpServer::HttpServer(HttpServerOptions options, Metrics* metrics,
                       std::unique_ptr<httplib::Server> server)
    : options_(std::move(options)),
      metrics_(metrics),
      server_(std::move(server)),
      pool_(std::make_shared<HttpPoolState>(options_.threads)),
      refusal_log_(std::make_unique<LogRateLimiter>(
          options_.refusal_log_lines_per_second, [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                .count();
          })) {
  metrics_->DeclareCounter(kRequestsTotal,
                           "HTTP requests served, by listener, route and status.");
  metrics_->DeclareCounter(kRefusalsTotal,
                           "Requests refused for security or resource reasons "
                           "(401, 403, 411, 413, 415, 416, 431 and requests "
                           "the pre-body gate refused), by listener and reason.");
  const Labels listener = {{"listener", options_.name}};
  std::shared_ptr<HttpPoolState> pool = pool_;
  metrics_->AddGauge("mimi_http_workers",
                     "Pool threads of the listener (server_threads).",
                     [listener, pool] {
                       return std::vector<Sample>{
                           {listener, static_cast<double>(pool->threads)}};
                     });
  metrics_->AddGauge("mimi_http_workers_busy",
                     "Pool threads holding a connection (handshake, waiting "
                     "for a request, or serving one).",
                     [listener, pool] {
                       return std::vector<Sample>{
                           {listener, static_cast<double>(pool->busy.load())}};
                     });
  metrics_->AddGauge("mimi_http_connections_queued",
                     "Accepted connections waiting for a free pool thread.",
                     [listener, pool] {
                       return std::vector<Sample>{
                           {listener, static_cast<double>(pool->queued.load())}};
                     });

  const size_t threads = static_cast<size_t>(options_.threads);
  server_->new_task_queue = [threads, pool] {
    return new CountingPool(threads, pool);
  };
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout.count());
  server_->set_keep_alive_max_count(options_.keep_alive_max_count);
  server_->set_read_timeout(options_.read_timeout);
  server_->set_write_timeout(options_.write_timeout);
  server_->set_payload_max_length(options_.max_body_bytes);

  server_->set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        return Gate(req, res);
      });
  // Exceptions thrown outside our route wrapper (httplib's own routing and
  // body reading): 500, and the daemon keeps running.
  server_->set_exception_handler([this](const httplib::Request& req,
                                        httplib::Response& res,
                                        std::exception_ptr ep) {
    std::string what = "non-standard exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::Error("{} {} {}: unhandled exception: {}", options_.name,
               SafeText(req.method, 16), SafeText(req.path, 256),
               SafeText(what));
    ReplyError(res, InternalError("internal error"));
  });
  // Errors httplib produces itself (no route, bad request line) get the
  // same JSON shape as ours; our handlers' own errors already have a body.
  // This runs outside every try block of httplib: it must not throw.
  server_->set_error_handler([](const httplib::Request& req,
                                httplib::Response& res) {
    DropRanges(req);
    if (!res.body.empty() || res.content_provider_) return;
    try {
      if (res.status == 404) {
        ReplyError(res, NotFoundError("no route for " + SafeText(req.method, 16) +
                                      " " + SafeText(req.path, 256)));
      } else if (res.status == 413) {
        ReplyError(res, Status(StatusCode::kInvalidArgument, "payload-too-large",
                               "the body exceeds the configured limit"));
      } else {
        const int code = res.status;
        ReplyError(res, Status(StatusCode::kMalformed, "bad-request",
                               "HTTP " + std::to_string(code)));
        res.status = code;
      }
    } catch (...) {
      // Out of memory, say; the status line still goes out.
      res.body.clear();
    }
  });
  server_->set_logger([this](const httplib::Request& req,
                             const httplib::Response& res) {
    try {
      const std::string endpoint =
          t_endpoint != nullptr ? *t_endpoint : std::string("unmatched");
      metrics_->IncCounter(kRequestsTotal,
                           {{"listener", options_.name},
                            {"endpoint", endpoint},
                            {"status", std::to_string(res.status)}});
      if (t_gate_refused || IsRefusalStatus(res.status)) {
        std::string reason = t_reason;
        if (reason.empty()) {
          reason = res.status == 401 ? "unauthorized"
                                     : "http-" + std::to_string(res.status);
        }
        LogRefusal(req, res, reason);
      }
      log::Debug("{} {} {} -> {}", options_.name, SafeText(req.method, 16),
                 SafeText(req.path, 256), res.status);
    } catch (...) {
      // Accounting must never take a worker down.
    }
    t_endpoint = nullptr;
    t_reason.clear();
    t_gate_refused = false;
    t_options = nullptr;
  });
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::busy_workers() const { return pool_->busy.load(); }

void HttpServer::LogRefusal(const httplib::Request& req,
                            const httplib::Response& res,
                            const std::string& reason) {
  metrics_->IncCounter(kRefusalsTotal,
                       {{"listener", options_.name}, {"reason", reason}});
  std::optional<uint64_t> dropped = refusal_log_->Admit(reason);
  if (!dropped) return;
  log::Warn("{}: refused {} {} from {}:{}: {} {}{}", options_.name,
            SafeText(req.method, 16), SafeText(req.path, 256),
            SafeText(req.remote_addr, 64), req.remote_port, res.status,
            SafeText(reason, 64),
            *dropped == 0 ? std::string()
                          : " (" + std::to_string(*dropped) +
                                " more like it not logged)");
}

HandlerResponse HttpServer::Gate(const httplib::Request& req,
                                 httplib::Response& res) {
  t_endpoint = nullptr;
  t_reason.clear();
  t_gate_refused = false;
  t_options = &options_;
  DropRanges(req);
  auto refuse = [&](int http_status, StatusCode code, const char* reason,
                    std::string detail) {
    t_gate_refused = true;
    ReplyErrorAndClose(res, http_status, Status(code, reason, std::move(detail)));
    return HandlerResponse::Handled;
  };

  // httplib has read them all by now (no hook runs earlier); refusing keeps
  // them from reaching handlers and says so. Each line is at most 8 KiB.
  size_t count = 0;
  size_t bytes = 0;
  for (const auto& [name, value] : req.headers) {
    if (IsHttplibHeader(name)) continue;
    ++count;
    bytes += name.size() + value.size() + 4;
  }
  if (count > options_.max_header_count || bytes > options_.max_header_bytes) {
    return refuse(431, StatusCode::kMalformed, "headers-too-large",
                  std::to_string(count) + " headers, " + std::to_string(bytes) +
                      " bytes; the limit is " +
                      std::to_string(options_.max_header_count) + " headers, " +
                      std::to_string(options_.max_header_bytes) + " bytes");
  }
  // The protocol uses no content coding; httplib would inflate gzip before
  // any limit applies.
  if (req.has_header("Content-Encoding")) {
    return refuse(415, StatusCode::kUnsupported, "unsupported-content-encoding",
                  "no Content-Encoding is accepted");
  }
  const std::string content_type = req.get_header_value("Content-Type");
  if (content_type.rfind("multipart/", 0) == 0) {
    return refuse(415, StatusCode::kInvalidArgument, "wrong-content-type",
                  "multipart bodies are not accepted");
  }
  const bool has_te = req.has_header("Transfer-Encoding");
  const bool chunked =
      has_te && EqualsIgnoreCase(req.get_header_value("Transfer-Encoding"),
                                 "chunked");
  const bool has_length = req.has_header("Content-Length");
  if (has_te && !chunked) {
    return refuse(400, StatusCode::kMalformed, "bad-framing",
                  "only Transfer-Encoding: chunked is accepted");
  }
  if (has_te && has_length) {
    // RFC 9112 §6.3: a message with both is a request-smuggling vector.
    return refuse(400, StatusCode::kMalformed, "bad-framing",
                  "both Transfer-Encoding and Content-Length");
  }
  uint64_t length = 0;
  if (has_length) {
    if (req.get_header_value_count("Content-Length") != 1) {
      return refuse(400, StatusCode::kMalformed, "bad-framing",
                    "more than one Content-Length");
    }
    const std::string v = req.get_header_value("Content-Length");
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), length);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) {
      return refuse(400, StatusCode::kMalformed, "bad-framing",
                    "Content-Length is not a number");
    }
    // Up to twice the limit, httplib reads the body and discards it before
    // its 413: a client still sending when the connection closed would see
    // a reset instead of the answer. Beyond that it is not worth the wait.
    if (length > 2 * options_.max_body_bytes) {
      return refuse(413, StatusCode::kInvalidArgument, "payload-too-large",
                    "the body exceeds the configured limit of " +
                        std::to_string(options_.max_body_bytes) + " bytes");
    }
  }
  if (!IsBodyMethod(req.method)) {
    // httplib does not read a body here; its bytes would be taken for the
    // next request.
    if (chunked || length > 0) {
      return refuse(400, StatusCode::kMalformed, "unexpected-body",
                    req.method.size() <= 16
                        ? SafeText(req.method) + " requests carry no body"
                        : std::string("this method carries no body"));
    }
  } else if (!has_length && !chunked) {
    // Without framing the body would run until the client closes.
    return refuse(411, StatusCode::kMalformed, "length-required",
                  "a body needs Content-Length or chunked framing");
  }
  return HandlerResponse::Unhandled;
}

HttpServer::Handler HttpServer::Wrap(const std::string& pattern, Handler handler) {
  auto route = std::make_shared<const std::string>(pattern);
  return [this, route, handler = std::move(handler)](
             const httplib::Request& req, httplib::Response& res) {
    t_endpoint = route.get();
    // The catch-all for request handling: an exception here is a bug, but
    // one request's bug must not take the daemon down.
    try {
      handler(req, res);
    } catch (const std::exception& e) {
      log::Error("{} {} {}: unhandled exception: {}", options_.name,
                 SafeText(req.method, 16), SafeText(req.path, 256),
                 SafeText(e.what()));
      ReplyError(res, InternalError("internal error"));
    } catch (...) {
      log::Error("{} {} {}: unhandled non-standard exception", options_.name,
                 SafeText(req.method, 16), SafeText(req.path, 256));
      ReplyError(res, InternalError("internal error"));
    }
  };
}

void HttpServer::Get(const std::string& pattern, Handler handler) {
  server_->Get(pattern, Wrap(pattern, std::move(handler)));
}

bool HttpServer::ReadBounded(const httplib::Request& req,
                             httplib::Response& res,
                             const httplib::ContentReader& reader,
                             uint64_t limit, const BodySink& sink) {
  (void)req;
  uint64_t seen = 0;
  bool too_large = false;
  const bool read = reader([&](const char* data, size_t n) {
    seen += n;
    if (seen > limit) {
      // Past the limit nothing is kept; up to twice the limit the rest is
      // read and dropped, so that a client still sending gets the 413
      // rather than a reset. Then the connection is cut.
      too_large = true;
      return seen <= 2 * limit;
    }
    sink(ByteSpan(reinterpret_cast<const uint8_t*>(data), n));
    return true;
  });
  const Status too_large_status(StatusCode::kInvalidArgument,
                                "payload-too-large",
                                "the body exceeds the configured limit of " +
                                    std::to_string(limit) + " bytes");
  if (too_large) {
    if (read) {
      ReplyError(res, too_large_status);
    } else {
      ReplyErrorAndClose(res, 413, too_large_status);
    }
    return false;
  }
  // httplib read and dropped a Content-Length body over the limit.
  if (!read && res.status == 413) {
    ReplyError(res, too_large_status);
    return false;
  }
  if (!read) {
    ReplyErrorAndClose(
        res, 400,
        Status(StatusCode::kMalformed, "bad-framing",
               "the body could not be read (broken chunked framing, or "
               "the client stopped sending)"));
    return false;
  }
  return true;
}

void HttpServer::Post(const std::string& pattern, Handler handler) {
  Handler wrapped = Wrap(pattern, std::move(handler));
  const uint64_t limit = options_.max_body_bytes;
  // The body is read here, through a bounded receiver, rather than by
  // httplib into req.body: httplib caps only Content-Length bodies, and a
  // chunked one would be buffered whole before any handler could refuse it.
  server_->Post(pattern, [wrapped = std::move(wrapped), limit](
                             const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) {
    std::string body;
    const bool read = ReadBounded(req, res, reader, limit, [&](ByteSpan piece) {
      body.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    });
    if (!read) return;
    // Handlers see the body where httplib would have put it. Only the
    // headers are copied: the body is moved in.
    httplib::Request with_body = req;
    with_body.body = std::move(body);
    wrapped(with_body, res);
  });
}

void HttpServer::PostStreaming(const std::string& pattern,
                               StreamHandler handler) {
  const uint64_t limit = options_.max_body_bytes;
  // The request's reader reaches the wrapped handler through the request
  // thread (Wrap's handlers take (req, res) only); it is set only while
  // that request's handler runs.
  static thread_local const httplib::ContentReader* t_reader = nullptr;
  Handler wrapped = Wrap(
      pattern, [handler = std::move(handler), limit](
                   const httplib::Request& req, httplib::Response& res) {
        const httplib::ContentReader* reader = t_reader;
        BodyReader read_body =
            [&req, &res, reader, limit](
                const std::function<void(uint64_t)>& begin,
                const BodySink& sink) {
              uint64_t declared = 0;
              if (req.has_header("Content-Length")) {
                // The gate checked that it is one number.
                const std::string v = req.get_header_value("Content-Length");
                std::from_chars(v.data(), v.data() + v.size(), declared);
              }
              // A length over the limit is refused below, unread.
              begin(declared <= limit ? declared : 0);
              return ReadBounded(req, res, *reader, limit, sink);
            };
        handler(req, res, read_body);
      });
  server_->Post(pattern, [wrapped = std::move(wrapped)](
                             const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) {
    t_reader = &reader;
    wrapped(req, res);
    t_reader = nullptr;
  });
}

Status HttpServer::Start() {
  if (started_.exchange(true)) return InternalError("server started twice");
  // Last, so they match only what no route did: without them httplib reads
  // the body of an unrouted POST/PUT/PATCH/DELETE whole (chunked: with no
  // limit) before answering 404.
  const uint64_t limit = options_.max_body_bytes;
  auto no_route = [limit](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
    // Read and drop up to the limit, so that the 404 is not lost to a reset.
    uint64_t seen = 0;
    (void)reader([&](const char*, size_t n) {
      seen += n;
      return seen <= limit;
    });
    ReplyErrorAndClose(res, 404,
                       NotFoundError("no route for " + SafeText(req.method, 16) +
                                     " " + SafeText(req.path, 256)));
  };
  server_->Post(".*", no_route);
  server_->Put(".*", no_route);
  server_->Patch(".*", no_route);
  server_->Delete(".*", no_route);

  const HostPort& at = options_.listen;
  int port = at.port;
  if (port == 0) {
    port = server_->bind_to_any_port(at.host);
    if (port < 0) {
      return UnavailableError("cannot bind " + options_.name + " listener on " +
                              at.host);
    }
  } else if (!server_->bind_to_port(at.host, port)) {
    return UnavailableError("cannot bind " + options_.name + " listener on " +
                            at.host + ":" + std::to_string(port));
  }
  port_ = static_cast<uint16_t>(port);
  // Bound before the thread starts, so connections queue in the kernel's
  // backlog rather than being refused while the thread spins up.
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the loop runs; wait for it so that a
  // prompt Stop() cannot be lost and hang the join.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  log::Info("{} listener on {}://{}:{}", options_.name,
            options_.plain_http ? "http" : "https", at.host, port);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!started_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mimi::daemon
