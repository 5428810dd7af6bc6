// HookSignature: how mimi-portd and an operator's Delivery Service
// authenticate the HTTP hooks to each other with a shared secret
// (docs/ds-interface.md, "Authentication").
//
// Every hook request carries the header
//   MIMI-Hook-Signature: t=<unix ms>,v1=<hex HMAC-SHA256(secret, input)>
// with input = METHOD "\n" PATH "\n" t "\n" BODY. The DS refuses a missing or
// wrong MAC and a t more than five minutes from its own clock (401). Its
// answer carries the same header over
//   STATUS "\n" PATH "\n" t "\n" <request MAC, hex> "\n" BODY
// so that the answer is bound to this very request: a proxy's error page or a
// replayed answer cannot pass for the DS's word. Inputs starting with a
// status (digits) cannot collide with requests (a method, letters).
//
// Pure functions; thread-safe.
#ifndef MIMI_DS_HTTP_HOOK_SIGNATURE_H_
#define MIMI_DS_HTTP_HOOK_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"

namespace mimi::ds_http {

inline constexpr char kSignatureHeader[] = "MIMI-Hook-Signature";
// How far a request's timestamp may be from the receiver's clock.
inline constexpr int64_t kMaxClockSkewMs = 5 * 60 * 1000;

struct HookSignature {
  UnixMillis timestamp_ms = 0;
  Bytes mac;  // 32 bytes
};

// "t=<ms>,v1=<hex>".
std::string FormatSignatureHeader(const HookSignature& signature);
// Strict: exactly the two fields in that order, t a non-negative decimal, v1
// 64 lowercase or uppercase hex digits. kMalformed otherwise.
Result<HookSignature> ParseSignatureHeader(std::string_view header);

Result<HookSignature> SignRequest(ByteSpan secret, std::string_view method,
                                  std::string_view path, std::string_view body,
                                  UnixMillis now);
Result<HookSignature> SignResponse(ByteSpan secret, int http_status,
                                   std::string_view path, ByteSpan request_mac,
                                   std::string_view body, UnixMillis now);

// The receiver's checks. kBadSignature (reason "bad-signature") for a MAC
// that does not match; kPermissionDenied (reason "stale-timestamp") for a
// request outside the clock window; kMalformed for an unreadable header.
Status VerifyRequest(ByteSpan secret, std::string_view header,
                     std::string_view method, std::string_view path,
                     std::string_view body, UnixMillis now);
// Answers are bound to their request's MAC, so no clock window applies.
Status VerifyResponse(ByteSpan secret, std::string_view header, int http_status,
                      std::string_view path, ByteSpan request_mac,
                      std::string_view body);

}  // namespace mimi::ds_http

#endif  // MIMI_DS_HTTP_HOOK_SIGNATURE_H_
