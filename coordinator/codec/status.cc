#include "mimi_portability/status.h"

namespace mimi {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kMalformed: return "malformed";
    case StatusCode::kInvalidArgument: return "invalid-argument";
    case StatusCode::kNotFound: return "not-found";
    case StatusCode::kAlreadyExists: return "already-exists";
    case StatusCode::kFailedPrecondition: return "failed-precondition";
    case StatusCode::kPermissionDenied: return "permission-denied";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kBadSignature: return "bad-signature";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(reason());
  if (!detail_.empty()) out += ": " + detail_;
  return out;
}

}  // namespace mimi
