// HookClient: the transport of the HTTP hooks — signed JSON POSTs from
// mimi-portd to an operator's Delivery Service, and checked answers
// (docs/ds-interface.md). HttpDeliveryService builds each hook's body and
// reads its answer; this class knows nothing about groups.
//
// What it guarantees: every request carries MIMI-Hook-Signature (HMAC over
// method, path, timestamp and body; hook_signature.h); every answer the
// caller sees was signed by the DS for this very request; anything worth
// retrying — no connection, a timeout, 401 (clock skew, a secret being
// rotated), 408, 429, any 5xx, an unsigned or wrongly signed answer — is
// kUnavailable, for the recovery loop to repeat, never a final refusal.
//
// Thread-safe: calls run concurrently, each on a keep-alive connection taken
// from a small pool (cpp-httplib clients are one-request-at-a-time).
#ifndef MIMI_DS_HTTP_HOOK_CLIENT_H_
#define MIMI_DS_HTTP_HOOK_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "codec/mutex.h"
#include "crypto/secret_bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"

namespace httplib {
class ClientImpl;
}  // namespace httplib

namespace mimi::ds_http {

// "http[s]://host[:port][/prefix]", host a name, IPv4 or [IPv6]; the
// authority is read by codec::ParseHostPort (codec/host_port.h).
struct BaseUrl {
  bool https = true;
  std::string host;
  uint16_t port = 443;
  std::string path_prefix;  // "" or "/prefix" without a trailing slash
};
// kInvalidArgument naming what is wrong. Plain http:// is accepted here; the
// config decides whether it is allowed.
Result<BaseUrl> ParseBaseUrl(std::string_view url);

struct HookClientOptions {
  std::string base_url;
  crypto::SecretBytes secret;
  // Connect, read and write timeout of one hook call.
  std::chrono::milliseconds timeout{5000};
  // https only: CA bundle that verifies the DS's certificate; empty = the
  // system's default store.
  std::string ca_file;
};

struct HookReply {
  int http_status = 0;
  nlohmann::json body;  // always a JSON object
};

class HookClient {
 public:
  // Checks the options (base URL, a secret of at least kMinSecretBytes);
  // connects lazily, so a DS that is down now is no reason to fail here.
  static Result<std::unique_ptr<HookClient>> Create(HookClientOptions options,
                                                    const Clock& clock);
  ~HookClient();
  HookClient(const HookClient&) = delete;
  HookClient& operator=(const HookClient&) = delete;

  // POSTs `body` to <prefix><hook> ("/mimi-hooks/v1/freeze"). Returns the
  // DS's signed answer with a 2xx or 4xx status other than those above.
  Result<HookReply> Call(std::string_view hook, const nlohmann::json& body);

  static constexpr size_t kMinSecretBytes = 32;

 private:
  HookClient(HookClientOptions options, BaseUrl url, const Clock& clock);
  std::unique_ptr<httplib::ClientImpl> Acquire() EXCLUDES(mu_);
  void Release(std::unique_ptr<httplib::ClientImpl> client) EXCLUDES(mu_);

  const HookClientOptions options_;
  const BaseUrl url_;
  const Clock& clock_;
  Mutex mu_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle_ GUARDED_BY(mu_);
};

}  // namespace mimi::ds_http

#endif  // MIMI_DS_HTTP_HOOK_CLIENT_H_
