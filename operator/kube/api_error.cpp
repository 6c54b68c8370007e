#include "operator/kube/api_error.h"

#include <charconv>

namespace relops::kube {
namespace {

using base::Error;
using base::ErrorKind;
using Json = nlohmann::json;

constexpr size_t kBodyExcerpt = 200;

std::string stringField(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::chrono::seconds> parseSeconds(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  // An HTTP-date Retry-After is not parsed; the caller's backoff applies.
  if (ec != std::errc() || end != text.data() + text.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

}  // namespace

ErrorKind errorKindForHttpStatus(int httpStatus) {
  switch (httpStatus) {
    case 400:
      return ErrorKind::kBadRequest;
    case 401:
      return ErrorKind::kUnauthorized;
    case 403:
      return ErrorKind::kForbidden;
    case 404:
      return ErrorKind::kNotFound;
    case 409:
      return ErrorKind::kConflict;
    case 410:
      return ErrorKind::kGone;
    case 422:
      return ErrorKind::kInvalid;
    case 429:
      return ErrorKind::kTooManyRequests;
    default:
      break;
  }
  // 5xx and anything unexpected outside 4xx (a proxy's 3xx) may pass; other
  // 4xx (405, 406, 413, 415) mean relops built the request wrongly.
  if (httpStatus >= 400 && httpStatus < 500) return ErrorKind::kBadRequest;
  return ErrorKind::kTransient;
}

Error errorFromStatus(const Json& status, int httpStatus) {
  int code = httpStatus;
  if (code == 0 && status.is_object()) {
    const auto it = status.find("code");
    if (it != status.end() && it->is_number_integer()) code = it->get<int>();
  }
  const std::string reason = status.is_object() ? stringField(status, "reason") : std::string();
  std::string message = status.is_object() ? stringField(status, "message") : std::string();

  ErrorKind kind = errorKindForHttpStatus(code);
  // The reason refines the code where the code is ambiguous (metav1.StatusReason).
  if (reason == "AlreadyExists") {
    kind = ErrorKind::kAlreadyExists;
  } else if (reason == "Conflict") {
    kind = ErrorKind::kConflict;
  } else if (reason == "Expired" || reason == "Gone") {
    kind = ErrorKind::kGone;
  } else if (reason == "NotFound" && code == 0) {
    kind = ErrorKind::kNotFound;
  } else if (reason == "Invalid" && code == 0) {
    kind = ErrorKind::kInvalid;
  } else if (reason == "TooManyRequests" && code == 0) {
    kind = ErrorKind::kTooManyRequests;
  }
  if (message.empty()) {
    message = reason.empty() ? "the server answered HTTP " + std::to_string(code)
                             : "the server answered " + reason;
  }
  Error error(kind, std::move(message));
  if (code != 0) error.withHttpStatus(code);
  if (!reason.empty()) error.withReason(reason);
  if (!status.is_object()) return error;
  const auto details = status.find("details");
  if (details == status.end() || !details->is_object()) return error;
  const auto retry = details->find("retryAfterSeconds");
  if (retry != details->end() && retry->is_number_integer() && retry->get<int64_t>() > 0) {
    error.withRetryAfter(std::chrono::seconds(retry->get<int64_t>()));
  }
  const auto causes = details->find("causes");
  if (causes != details->end() && causes->is_array()) {
    for (const Json& cause : *causes) {
      if (!cause.is_object()) continue;
      error.withCause(base::ErrorCause{.field = stringField(cause, "field"),
                                       .reason = stringField(cause, "reason"),
                                       .message = stringField(cause, "message")});
    }
  }
  return error;
}

Error errorFromResponse(int httpStatus, std::string_view body,
                        std::optional<std::string_view> retryAfterHeader) {
  const Json status = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  Error error = [&] {
    if (!status.is_discarded() && status.is_object() && stringField(status, "kind") == "Status") {
      return errorFromStatus(status, httpStatus);
    }
    std::string message = "the server answered HTTP " + std::to_string(httpStatus);
    if (!status.is_discarded() && status.is_object() && status.contains("error") &&
        status["error"].is_string()) {
      // A JSON error envelope ({"status": "error", "error": "..."}), as Prometheus's
      // HTTP API answers: its message is what a person needs to see.
      message += ": " + status["error"].get<std::string>().substr(0, 4096);
    } else if (!body.empty()) {
      message += ": " + std::string(body.substr(0, kBodyExcerpt));
      if (body.size() > kBodyExcerpt) message += "...";
    }
    Error plain(errorKindForHttpStatus(httpStatus), std::move(message));
    plain.withHttpStatus(httpStatus);
    return plain;
  }();
  if (retryAfterHeader) {
    if (const std::optional<std::chrono::seconds> delay = parseSeconds(*retryAfterHeader)) {
      error.withRetryAfter(*delay);
    }
  }
  return error;
}

bool isNamespaceTerminating(const base::Error& error) {
  if (error.kind() != ErrorKind::kForbidden) return false;
  for (const base::ErrorCause& cause : error.causes()) {
    if (cause.reason == "NamespaceTerminating") return true;
  }
  return false;
}

}  // namespace relops::kube
