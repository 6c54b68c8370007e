// Kubernetes object names as the API server validates them (apimachinery's
// IsDNS1123Label / IsDNS1123Subdomain), for the operator's endpoints: a path segment that is
// not a valid name never reaches the caches or an access review.
#pragma once

#include <cstddef>
#include <string_view>

namespace relops::app {

// A DNS label (RFC 1123): a namespace, a ServiceLevelObjective's name's parts.
inline bool isDnsLabel(std::string_view text) {
  if (text.empty() || text.size() > 63 || text.front() == '-' || text.back() == '-') return false;
  for (const char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// A DNS subdomain (RFC 1123): labels joined by dots, at most 253 characters; most object names.
inline bool isDnsSubdomain(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    if (!isDnsLabel(text.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace relops::app
