#include "cli/exit_code.h"

#include <iostream>

namespace mimi::cli {
namespace {
int g_exit_code = kExitOk;
}  // namespace

void SetExitCode(int code) { g_exit_code = code; }
int ExitCode() { return g_exit_code; }

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kMalformed:
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnsupported:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:  // refused in this state (409)
    case StatusCode::kPermissionDenied:    // wrong or unknown token
    case StatusCode::kBadSignature:
      return kExitBadInput;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kUnavailable:
      return kExitUnreachable;
    case StatusCode::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

void ReportFailure(const Status& status) {
  std::cerr << "error: " << status.ToString() << "\n";
  SetExitCode(ExitCodeFor(status));
}

}  // namespace mimi::cli
