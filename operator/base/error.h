// The one error type of relops. Its kind decides what the caller does next:
// retry at once, back off, or stall until the spec changes; and it labels the
// error metric (controller-rs `Error::metric_label`). Exceptions are caught at
// parse and I/O boundaries and turned into an Error; nothing above them throws.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relops::base {

enum class ErrorKind {
  kTransient,        // network failure, timeout, 5xx: back off and retry
  kTooManyRequests,  // 429 or a client-side limit: retry after retryAfter, else back off
  kConflict,         // optimistic-concurrency loss (409 on update): re-read and retry at once
  kNotFound,         // 404
  kAlreadyExists,    // 409 on create
  kGone,             // 410: resourceVersion too old; relist
  kUnauthorized,     // 401: credentials expired or wrong; refresh and back off
  kForbidden,        // 403: RBAC; back off (an admin may grant it), never hot-loop
  kInvalid,          // 422 or bad input the API server rejected: stall
  kBadRequest,       // 400: a request relops built wrongly; stall (and it is a bug)
  kConfig,           // the user's configuration or spec cannot work as written: stall
  kInternal,         // a relops bug or impossible state: back off, report loudly
};

// Reason of a kTransient error when the server refused the TCP connection.
inline constexpr char kReasonConnectionRefused[] = "ConnectionRefused";

// What a controller does with a failed reconcile.
enum class Disposition { kRetryNow, kBackoff, kStall };

// One field-level cause of an Invalid error, as in metav1.StatusCause.
struct ErrorCause {
  std::string field;
  std::string reason;
  std::string message;
};

class Error {
 public:
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

  // The HTTP status the API server answered with, when the error came from it.
  std::optional<int> httpStatus() const { return httpStatus_; }
  Error& withHttpStatus(int status) {
    httpStatus_ = status;
    return *this;
  }

  // The machine-readable reason of a metav1.Status (`NotFound`, `Expired`, ...).
  const std::string& reason() const { return reason_; }
  Error& withReason(std::string reason) {
    reason_ = std::move(reason);
    return *this;
  }

  // Retry-After, when the server sent one.
  std::optional<std::chrono::seconds> retryAfter() const { return retryAfter_; }
  Error& withRetryAfter(std::chrono::seconds delay) {
    retryAfter_ = delay;
    return *this;
  }

  const std::vector<ErrorCause>& causes() const { return causes_; }
  Error& withCause(ErrorCause cause) {
    causes_.push_back(std::move(cause));
    return *this;
  }

  // Prefixes the message with what was being done: "get deployment a/b: <message>".
  Error& context(std::string_view what);

  Disposition disposition() const;

  // A short, bounded label for metrics and logs ("transient", "conflict", ...).
  std::string_view metricLabel() const;

  // "<message> (field: reason; ...)" — what a person reads in an Event or condition.
  std::string describe() const;

 private:
  ErrorKind kind_;
  std::string message_;
  std::optional<int> httpStatus_;
  std::string reason_;
  std::optional<std::chrono::seconds> retryAfter_;
  std::vector<ErrorCause> causes_;
};

std::string_view toString(ErrorKind kind);

}  // namespace relops::base
