#include "ds_http/hook_client.h"

#include <httplib.h>

#include <utility>

#include "codec/host_port.h"
#include "codec/json_text.h"
#include "ds_http/hook_signature.h"

namespace mimi::ds_http {
namespace {

using nlohmann::json;

// Connections kept open between calls; more may exist while calls overlap.
constexpr size_t kMaxIdleConnections = 8;

bool Retryable(int http_status) {
  return http_status == 401 || http_status == 408 || http_status == 429 ||
         http_status >= 500;
}

Status Unavailable(std::string reason, std::string detail) {
  return Status(StatusCode::kUnavailable, std::move(reason), std::move(detail));
}

}  // namespace

Result<BaseUrl> ParseBaseUrl(std::string_view url) {
  const std::string what = "base URL '" + std::string(url) + "': ";
  BaseUrl out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    out.https = false;
    out.port = 80;
    rest = url.substr(7);
  } else {
    return InvalidArgumentError(what + "must start with https:// or http://");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    for (char c : prefix) {
      if (c == '?' || c == '#' || c == ' ' || c == '%') {
        return InvalidArgumentError(
            what + "the path may not hold '?', '#', '%' or spaces");
      }
    }
    out.path_prefix = std::string(prefix);
  }
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgumentError(what +
                                "credentials in the URL are not supported");
  }
  Result<codec::HostPort> address = codec::ParseHostPort(authority, out.port);
  if (!address.ok()) {
    return InvalidArgumentError(what + address.status().detail());
  }
  // Port 0 means "any" only to a listener.
  if (address->port == 0) return InvalidArgumentError(what + "bad port 0");
  out.host = std::move(address->host);
  out.port = address->port;
  return out;
}

Result<std::unique_ptr<HookClient>> HookClient::Create(
    HookClientOptions options, const Clock& clock) {
  MIMI_ASSIGN_OR_RETURN(BaseUrl url, ParseBaseUrl(options.base_url));
  if (options.secret.size() < kMinSecretBytes) {
    return InvalidArgumentError(
        "DS hooks: the shared secret must be at least " +
        std::to_string(kMinSecretBytes) + " bytes");
  }
  if (options.timeout.count() < 1) {
    return InvalidArgumentError("DS hooks: timeout must be positive");
  }
  if (!url.https && !options.ca_file.empty()) {
    return InvalidArgumentError(
        "DS hooks: a CA file needs an https:// base URL");
  }
  return std::unique_ptr<HookClient>(
      new HookClient(std::move(options), std::move(url), clock));
}

HookClient::HookClient(HookClientOptions options, BaseUrl url,
                       const Clock& clock)
    : options_(std::move(options)), url_(std::move(url)), clock_(clock) {}

HookClient::~HookClient() = default;

std::unique_ptr<httplib::ClientImpl> HookClient::Acquire() {
  {
    MutexLock lock(mu_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  std::unique_ptr<httplib::ClientImpl> client;
  if (url_.https) {
    auto ssl = std::make_unique<httplib::SSLClient>(url_.host, url_.port);
    if (!options_.ca_file.empty()) ssl->set_ca_cert_path(options_.ca_file);
    ssl->enable_server_certificate_verification(true);
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(url_.host, url_.port);
  }
  // Small request/answer exchanges: without NODELAY each would wait for a
  // delayed ACK.
  client->set_tcp_nodelay(true);
  client->set_keep_alive(true);
  const auto ms = options_.timeout.count();
  const time_t sec = static_cast<time_t>(ms / 1000);
  const time_t usec = static_cast<time_t>((ms % 1000) * 1000);
  client->set_connection_timeout(sec, usec);
  client->set_read_timeout(sec, usec);
  client->set_write_timeout(sec, usec);
  return client;
}

void HookClient::Release(std::unique_ptr<httplib::ClientImpl> client) {
  MutexLock lock(mu_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(client));
}

Result<HookReply> HookClient::Call(std::string_view hook, const json& body) {
  const std::string path = url_.path_prefix + std::string(hook);
  const std::string text = codec::DumpJson(body);
  MIMI_ASSIGN_OR_RETURN(HookSignature sig,
                        SignRequest(options_.secret.span(), "POST", path, text,
                                    clock_.NowMillis()));
  httplib::Headers headers = {{kSignatureHeader, FormatSignatureHeader(sig)}};
  const std::string where = "DS hook " + path;

  std::unique_ptr<httplib::ClientImpl> client = Acquire();
  httplib::Result res = client->Post(path, headers, text, "application/json");
  if (!res) {
    // The connection is in an unknown state: drop it, not the migration.
    return Unavailable("ds-unavailable",
                       where + ": " + httplib::to_string(res.error()));
  }
  const int status = res->status;
  const std::string answer = res->body;
  const std::string answer_sig = res->get_header_value(kSignatureHeader);
  const bool keep = res->get_header_value("Connection") != "close";
  if (keep) Release(std::move(client));

  json parsed = codec::ParseJson(answer);
  std::string detail = where + ": HTTP " + std::to_string(status);
  if (parsed.is_object() && parsed.contains("detail") &&
      parsed["detail"].is_string()) {
    detail += ": " + parsed["detail"].get<std::string>();
  }
  if (Retryable(status)) {
    if (status == 401) return Unavailable("hook-unauthorized", detail);
    std::string reason = "ds-unavailable";
    if (parsed.is_object() && parsed.contains("error") &&
        parsed["error"].is_string()) {
      reason = parsed["error"].get<std::string>();
    }
    return Unavailable(reason, detail);
  }
  // Anything else is a statement about the group, so it must be the DS's.
  Status verified = answer_sig.empty()
                        ? Status(StatusCode::kBadSignature, "missing signature")
                        : VerifyResponse(options_.secret.span(), answer_sig,
                                         status, path, sig.mac, answer);
  if (!verified.ok()) {
    return Unavailable(
        "hook-bad-response-signature",
        detail + " (answer not signed by the DS: " + verified.ToString() + ")");
  }
  if (!parsed.is_object()) {
    return Status(StatusCode::kInternal, "hook-bad-response",
                  where + ": HTTP " + std::to_string(status) +
                      " answer is not a JSON object");
  }
  return HookReply{status, std::move(parsed)};
}

}  // namespace mimi::ds_http
