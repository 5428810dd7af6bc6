#include "daemon/http_server.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace mimi::daemon {
namespace {

constexpr char kRequestsTotal[] = "mimi_http_requests_total";

// The route pattern of the request being served on this thread; the logger,
// which httplib calls on the same thread after the handler, reads it so that
// metrics are labelled by route, not by raw path (which holds ids).
thread_local const std::string* t_endpoint = nullptr;

}  // namespace

int HttpStatusFor(const Status& status) {
  const std::string_view reason = status.reason();
  if (reason == "payload-too-large") return 413;
  if (reason == "wrong-content-type") return 415;
  if (reason == "moved") return 410;
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
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, const Status& status,
                const nlohmann::json& extra) {
  nlohmann::json body = {{"error", std::string(status.reason())},
                         {"detail", status.detail()}};
  for (const auto& [key, value] : extra.items()) body[key] = value;
  if (status.code() == StatusCode::kUnavailable) {
    res.set_header("Retry-After", "1");
  }
  ReplyJson(res, HttpStatusFor(status), body);
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
    : options_(std::move(options)), metrics_(metrics), server_(std::move(server)) {
  metrics_->DeclareCounter(kRequestsTotal,
                           "HTTP requests served, by listener, route and status.");
  const size_t threads = static_cast<size_t>(options_.threads);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout.count());
  server_->set_keep_alive_max_count(options_.keep_alive_max_count);
  server_->set_read_timeout(options_.read_timeout);
  server_->set_write_timeout(options_.write_timeout);
  server_->set_payload_max_length(options_.max_body_bytes);

  // Errors httplib produces itself (no route, body too large) get the same
  // JSON shape as ours; our handlers' own errors already have a body.
  server_->set_error_handler([](const httplib::Request& req,
                                httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      ReplyError(res, NotFoundError("no route for " + req.method + " " + req.path));
    } else if (res.status == 413) {
      ReplyError(res, Status(StatusCode::kInvalidArgument, "payload-too-large",
                             "the body exceeds the configured limit"));
    } else {
      const int code = res.status;
      ReplyError(res, Status(StatusCode::kMalformed, "bad-request",
                             "HTTP " + std::to_string(code)));
      res.status = code;
    }
  });
  server_->set_logger([this](const httplib::Request& req,
                             const httplib::Response& res) {
    const std::string endpoint =
        t_endpoint != nullptr ? *t_endpoint : std::string("unmatched");
    t_endpoint = nullptr;
    metrics_->IncCounter(kRequestsTotal, {{"listener", options_.name},
                                          {"endpoint", endpoint},
                                          {"status", std::to_string(res.status)}});
    spdlog::debug("{} {} {} -> {}", options_.name, req.method, req.path,
                  res.status);
  });
}

HttpServer::~HttpServer() { Stop(); }

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
      spdlog::error("{} {} {}: unhandled exception: {}", options_.name,
                    req.method, req.path, e.what());
      ReplyError(res, InternalError("internal error"));
    } catch (...) {
      spdlog::error("{} {} {}: unhandled non-standard exception", options_.name,
                    req.method, req.path);
      ReplyError(res, InternalError("internal error"));
    }
  };
}

void HttpServer::Get(const std::string& pattern, Handler handler) {
  server_->Get(pattern, Wrap(pattern, std::move(handler)));
}

void HttpServer::Post(const std::string& pattern, Handler handler) {
  server_->Post(pattern, Wrap(pattern, std::move(handler)));
}

Status HttpServer::Start() {
  if (started_.exchange(true)) return InternalError("server started twice");
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
  spdlog::info("{} listener on {}://{}:{}", options_.name,
               options_.plain_http ? "http" : "https", at.host, port);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!started_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mimi::daemon
