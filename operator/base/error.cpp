#include "operator/base/error.h"

namespace relops::base {

Error& Error::context(std::string_view what) {
  message_ = std::string(what) + ": " + message_;
  return *this;
}

Disposition Error::disposition() const {
  switch (kind_) {
    case ErrorKind::kConflict:
      return Disposition::kRetryNow;
    case ErrorKind::kInvalid:
    case ErrorKind::kBadRequest:
    case ErrorKind::kConfig:
      return Disposition::kStall;
    case ErrorKind::kTransient:
    case ErrorKind::kTooManyRequests:
    case ErrorKind::kNotFound:
    case ErrorKind::kAlreadyExists:
    case ErrorKind::kGone:
    case ErrorKind::kUnauthorized:
    case ErrorKind::kForbidden:
    case ErrorKind::kInternal:
      return Disposition::kBackoff;
  }
  return Disposition::kBackoff;
}

std::string_view toString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTransient:
      return "transient";
    case ErrorKind::kTooManyRequests:
      return "too_many_requests";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kAlreadyExists:
      return "already_exists";
    case ErrorKind::kGone:
      return "gone";
    case ErrorKind::kUnauthorized:
      return "unauthorized";
    case ErrorKind::kForbidden:
      return "forbidden";
    case ErrorKind::kInvalid:
      return "invalid";
    case ErrorKind::kBadRequest:
      return "bad_request";
    case ErrorKind::kConfig:
      return "config";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string_view Error::metricLabel() const { return toString(kind_); }

std::string Error::describe() const {
  if (causes_.empty()) return message_;
  std::string text = message_ + " (";
  for (size_t i = 0; i < causes_.size(); ++i) {
    if (i > 0) text += "; ";
    const ErrorCause& cause = causes_[i];
    text += cause.field.empty() ? cause.message : cause.field + ": " + cause.message;
  }
  return text + ")";
}

}  // namespace relops::base
