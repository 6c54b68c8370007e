// API server errors: an HTTP status and a metav1.Status body turned into the
// one relops Error, so callers switch on kind (client-go's
// k8s.io/apimachinery/pkg/api/errors IsNotFound, IsConflict, ...).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "operator/base/error.h"

namespace relops::kube {

// From a metav1.Status (a failed response's body, or the object of a watch
// ERROR event). `httpStatus` is the response code, or 0 to use status.code.
// The kind follows the reason where the API server gives one (409 is
// AlreadyExists or Conflict by reason; 410 and reason Expired are Gone),
// otherwise the code. details.causes become ErrorCauses and
// details.retryAfterSeconds a retry-after.
base::Error errorFromStatus(const nlohmann::json& status, int httpStatus = 0);

// From a whole failed response. A body that is not a Status (a proxy's HTML
// page) is quoted, shortened. Retry-After in seconds, when sent, wins over
// the Status's retryAfterSeconds.
base::Error errorFromResponse(int httpStatus, std::string_view body,
                              std::optional<std::string_view> retryAfterHeader = std::nullopt);

// The kind an HTTP status alone implies.
base::ErrorKind errorKindForHttpStatus(int httpStatus);

// A 403 because the object's namespace is being deleted (a cause with reason
// NamespaceTerminating): nothing can be created there any more, and the
// namespace's own deletion removes the object that asked.
bool isNamespaceTerminating(const base::Error& error);

}  // namespace relops::kube
