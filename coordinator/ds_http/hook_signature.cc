#include "ds_http/hook_signature.h"

#include <charconv>

#include "crypto/hmac.h"

namespace mimi::ds_http {
namespace {

constexpr size_t kMacLength = 32;  // HMAC-SHA256

Result<Bytes> Mac(ByteSpan secret, std::string_view input) {
  return crypto::Hmac(
      crypto::HashAlgorithm::kSha256, secret,
      ByteSpan(reinterpret_cast<const uint8_t*>(input.data()), input.size()));
}

std::string RequestInput(std::string_view method, std::string_view path,
                         UnixMillis t, std::string_view body) {
  std::string in;
  in.reserve(method.size() + path.size() + body.size() + 24);
  in.append(method).append("\n").append(path).append("\n");
  in.append(std::to_string(t)).append("\n").append(body);
  return in;
}

std::string ResponseInput(int http_status, std::string_view path, UnixMillis t,
                          ByteSpan request_mac, std::string_view body) {
  std::string in;
  in.reserve(path.size() + body.size() + 96);
  in.append(std::to_string(http_status)).append("\n").append(path).append("\n");
  in.append(std::to_string(t)).append("\n").append(ToHex(request_mac));
  in.append("\n").append(body);
  return in;
}

Status CheckMac(ByteSpan secret, const HookSignature& sig,
                std::string_view input) {
  MIMI_ASSIGN_OR_RETURN(Bytes expected, Mac(secret, input));
  if (!crypto::ConstantTimeEquals(expected, sig.mac)) {
    return Status(StatusCode::kBadSignature, "bad-signature",
                  std::string(kSignatureHeader) + ": the MAC does not match");
  }
  return Status::Ok();
}

}  // namespace

std::string FormatSignatureHeader(const HookSignature& signature) {
  return "t=" + std::to_string(signature.timestamp_ms) +
         ",v1=" + ToHex(signature.mac);
}

Result<HookSignature> ParseSignatureHeader(std::string_view header) {
  const std::string what = std::string(kSignatureHeader) + ": ";
  if (header.substr(0, 2) != "t=")
    return MalformedError(what + "expected t=<ms>,v1=<hex>");
  const size_t comma = header.find(',');
  if (comma == std::string_view::npos)
    return MalformedError(what + "missing v1=");
  const std::string_view t = header.substr(2, comma - 2);
  HookSignature sig;
  auto [ptr, ec] =
      std::from_chars(t.data(), t.data() + t.size(), sig.timestamp_ms);
  if (t.empty() || t.size() > 18 || ec != std::errc() ||
      ptr != t.data() + t.size() || sig.timestamp_ms < 0) {
    return MalformedError(what + "t: not a decimal Unix millisecond time");
  }
  const std::string_view v1 = header.substr(comma + 1);
  if (v1.substr(0, 3) != "v1=" || v1.size() != 3 + 2 * kMacLength) {
    return MalformedError(what + "v1: expected " +
                          std::to_string(2 * kMacLength) + " hex digits");
  }
  for (char c : v1.substr(3)) {
    // FromHex skips white space; a header must not.
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      return MalformedError(what + "v1: white space");
    }
  }
  auto mac = FromHex(v1.substr(3));
  if (!mac.ok()) return MalformedError(what + "v1: " + mac.status().detail());
  sig.mac = std::move(mac).value();
  return sig;
}

Result<HookSignature> SignRequest(ByteSpan secret, std::string_view method,
                                  std::string_view path, std::string_view body,
                                  UnixMillis now) {
  MIMI_ASSIGN_OR_RETURN(Bytes mac,
                        Mac(secret, RequestInput(method, path, now, body)));
  return HookSignature{now, std::move(mac)};
}

Result<HookSignature> SignResponse(ByteSpan secret, int http_status,
                                   std::string_view path, ByteSpan request_mac,
                                   std::string_view body, UnixMillis now) {
  MIMI_ASSIGN_OR_RETURN(
      Bytes mac,
      Mac(secret, ResponseInput(http_status, path, now, request_mac, body)));
  return HookSignature{now, std::move(mac)};
}

Status VerifyRequest(ByteSpan secret, std::string_view header,
                     std::string_view method, std::string_view path,
                     std::string_view body, UnixMillis now) {
  MIMI_ASSIGN_OR_RETURN(HookSignature sig, ParseSignatureHeader(header));
  // The MAC first: an attacker learns nothing about our clock from the
  // answer to a forged request.
  MIMI_RETURN_IF_ERROR(CheckMac(
      secret, sig, RequestInput(method, path, sig.timestamp_ms, body)));
  const int64_t skew =
      now > sig.timestamp_ms ? now - sig.timestamp_ms : sig.timestamp_ms - now;
  if (skew > kMaxClockSkewMs) {
    return Status(StatusCode::kPermissionDenied, "stale-timestamp",
                  std::string(kSignatureHeader) + ": t is " +
                      std::to_string(skew) +
                      " ms away from this clock (at most " +
                      std::to_string(kMaxClockSkewMs) + ")");
  }
  return Status::Ok();
}

Status VerifyResponse(ByteSpan secret, std::string_view header, int http_status,
                      std::string_view path, ByteSpan request_mac,
                      std::string_view body) {
  MIMI_ASSIGN_OR_RETURN(HookSignature sig, ParseSignatureHeader(header));
  return CheckMac(
      secret, sig,
      ResponseInput(http_status, path, sig.timestamp_ms, request_mac, body));
}

}  // namespace mimi::ds_http
