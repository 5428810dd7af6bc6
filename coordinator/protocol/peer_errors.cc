#include "protocol/peer_errors.h"

#include <nlohmann/json.hpp>
#include <string_view>

#include "codec/json_text.h"
#include "mimi_portability/ds_reason.h"
#include "protocol/refusal.h"

namespace mimi::protocol {

Status PeerError(const std::string& peer, const PeerResponse& r) {
  StatusCode code = StatusCode::kFailedPrecondition;
  if (r.status >= 500 || r.status == 429) {
    code = StatusCode::kUnavailable;
  } else if (r.status == 400) {
    code = StatusCode::kMalformed;
  } else if (r.status == 403) {
    code = StatusCode::kPermissionDenied;
  } else if (r.status == 404) {
    code = StatusCode::kNotFound;
  } else if (r.status == 413 || r.status == 415 || r.status == 422) {
    code = StatusCode::kInvalidArgument;
  }
  std::string why = "http-" + std::to_string(r.status);
  std::string detail;
  auto body = codec::ParseJson(r.body);
  if (body.is_object()) {
    why = body.value("error", why);
    detail = body.value("detail", "");
  }
  if (why == "bad-signature") code = StatusCode::kBadSignature;
  return Status(code, why,
                "peer " + peer + " answered " + std::to_string(r.status) + " " +
                    why + (detail.empty() ? "" : ": " + detail));
}

bool IsFinalRefusal(const Status& s) {
  return s.code() != StatusCode::kUnavailable &&
         s.code() != StatusCode::kBadSignature && s.reason() != reason::kBusy;
}

bool IsFinalFreezeRefusal(const Status& s) {
  const std::string_view r = s.reason();
  return r == reason::kGroupFrozen || r == reason::kEpochMismatch ||
         r == ds_reason::kMoved || r == reason::kUnknownGroup;
}

}  // namespace mimi::protocol
