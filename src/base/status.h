// Status: the outcome of an operation that can fail for a reason the caller may act on.
//
// Codes follow Abseil's canonical set, chosen by what the caller should do next
// (InvalidArgument: fix the input; FailedPrecondition: fix the state first; NotFound; ...).
// Every non-OK status also carries a stable error id ("profile.key_too_weak") that tests,
// JSON output and translations key on, and a human message for one line on stderr.
//
// Thread-safety: a Status is an immutable value; copies may be used from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace kyso {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kUnauthenticated,
  kOutOfRange,
  kDataLoss,
  kUnavailable,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string id, std::string message)
      : code_(code), id_(std::move(id)), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Stable machine-readable identifier, e.g. "csr.malformed". Empty when ok().
  const std::string& id() const { return id_; }
  const std::string& message() const { return message_; }

  // "id: message", for one line on stderr.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `. The id is kept.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string id_;
  std::string message_;
};

// Named constructors, so call sites read as the reason.
inline Status InvalidArgument(std::string id, std::string msg) {
  return {StatusCode::kInvalidArgument, std::move(id), std::move(msg)};
}
inline Status NotFound(std::string id, std::string msg) {
  return {StatusCode::kNotFound, std::move(id), std::move(msg)};
}
inline Status AlreadyExists(std::string id, std::string msg) {
  return {StatusCode::kAlreadyExists, std::move(id), std::move(msg)};
}
inline Status FailedPrecondition(std::string id, std::string msg) {
  return {StatusCode::kFailedPrecondition, std::move(id), std::move(msg)};
}
inline Status PermissionDenied(std::string id, std::string msg) {
  return {StatusCode::kPermissionDenied, std::move(id), std::move(msg)};
}
inline Status Unauthenticated(std::string id, std::string msg) {
  return {StatusCode::kUnauthenticated, std::move(id), std::move(msg)};
}
inline Status OutOfRange(std::string id, std::string msg) {
  return {StatusCode::kOutOfRange, std::move(id), std::move(msg)};
}
inline Status DataLoss(std::string id, std::string msg) {
  return {StatusCode::kDataLoss, std::move(id), std::move(msg)};
}
inline Status Unavailable(std::string id, std::string msg) {
  return {StatusCode::kUnavailable, std::move(id), std::move(msg)};
}
inline Status Internal(std::string id, std::string msg) {
  return {StatusCode::kInternal, std::move(id), std::move(msg)};
}

}  // namespace kyso

// Propagates a non-OK Status from an expression returning Status.
#define KYSO_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::kyso::Status kyso_status_ = (expr);        \
    if (!kyso_status_.ok()) return kyso_status_; \
  } while (0)

#define KYSO_CONCAT_INNER(a, b) a##b
#define KYSO_CONCAT(a, b) KYSO_CONCAT_INNER(a, b)

// Declares `lhs` from a Result<T> expression, or returns its Status.
#define KYSO_ASSIGN_OR_RETURN(lhs, expr) \
  KYSO_ASSIGN_OR_RETURN_IMPL(KYSO_CONCAT(kyso_result_, __LINE__), lhs, expr)
#define KYSO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()
