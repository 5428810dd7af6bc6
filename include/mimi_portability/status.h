// Status and Result<T>: how every expected failure in this project travels.
//
// A Status is a code from a small closed set plus a human-readable detail.
// The codes are stable: the HTTP layer maps them to status codes and the CLI
// to exit codes, so adding one is an interface change. A Status may also
// carry a `reason`: a finer, stable, kebab-case name for the wire
// ("group-frozen", "nonce-reused") that peers and clients can act on; without
// one, the wire shows the code's name. Result<T> holds either
// a value or a non-OK Status. Both are plain values; they are safe to copy and
// move between threads, but one instance is not synchronised.
#ifndef MIMI_PORTABILITY_STATUS_H_
#define MIMI_PORTABILITY_STATUS_H_

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mimi {

enum class StatusCode {
  kOk = 0,
  kMalformed,           // bytes that do not decode (truncated, bad varint...)
  kInvalidArgument,     // well-formed input that breaks a rule
  kNotFound,            // no such migration, group, key, file
  kAlreadyExists,       // the thing to create is there already
  kFailedPrecondition,  // wrong state for this operation (e.g. group frozen)
  kPermissionDenied,    // policy refuses the caller
  kUnsupported,         // ciphersuite, wire format or version we do not do
  kBadSignature,        // a signature that does not verify
  kUnavailable,         // retryable: peer down, database busy, timeout
  kInternal,            // a bug or an environment failure we cannot handle
};

// Stable lowercase name ("malformed", "bad-signature", ...).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string detail)
      : code_(code), detail_(std::move(detail)) {}
  Status(StatusCode code, std::string reason, std::string detail)
      : code_(code), detail_(std::move(detail)), reason_(std::move(reason)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& detail() const { return detail_; }
  // The stable wire name: the reason if set, else the code's name.
  std::string_view reason() const {
    return reason_.empty() ? StatusCodeName(code_) : std::string_view(reason_);
  }
  // "<code-name>: <detail>", or "ok".
  std::string ToString() const;

  bool operator==(const Status&) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string detail_;
  std::string reason_;
};

inline Status MalformedError(std::string detail) {
  return Status(StatusCode::kMalformed, std::move(detail));
}
inline Status InvalidArgumentError(std::string detail) {
  return Status(StatusCode::kInvalidArgument, std::move(detail));
}
inline Status NotFoundError(std::string detail) {
  return Status(StatusCode::kNotFound, std::move(detail));
}
inline Status InternalError(std::string detail) {
  return Status(StatusCode::kInternal, std::move(detail));
}
inline Status UnsupportedError(std::string detail) {
  return Status(StatusCode::kUnsupported, std::move(detail));
}
inline Status UnavailableError(std::string detail) {
  return Status(StatusCode::kUnavailable, std::move(detail));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result needs a non-OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }

  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace mimi

// Propagates a non-OK Status out of the enclosing function.
#define MIMI_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::mimi::Status mimi_status_ = (expr);     \
    if (!mimi_status_.ok()) return mimi_status_; \
  } while (0)

#define MIMI_CONCAT_INNER_(a, b) a##b
#define MIMI_CONCAT_(a, b) MIMI_CONCAT_INNER_(a, b)
// MIMI_ASSIGN_OR_RETURN(auto x, Foo()); declares x from a Result or returns
// its Status.
#define MIMI_ASSIGN_OR_RETURN(lhs, expr) \
  MIMI_ASSIGN_OR_RETURN_IMPL_(MIMI_CONCAT_(mimi_result_, __LINE__), lhs, expr)
#define MIMI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // MIMI_PORTABILITY_STATUS_H_
