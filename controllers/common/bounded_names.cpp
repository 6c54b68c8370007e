#include "controllers/common/bounded_names.h"

#include <array>

#include "operator/base/digest.h"

namespace relops::common {

std::string boundedName(std::string_view name, std::string_view identity, size_t maxLength,
                        size_t hashLength) {
  if (name.size() <= maxLength) return std::string(name);
  const std::string hash = base::sha256Hex(identity).substr(0, hashLength);
  std::string_view prefix = name.substr(0, maxLength - hash.size() - 1);
  // A name part must end alphanumeric: no "-" or "." before the separator.
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  while (!prefix.empty() && !alnum(prefix.back())) prefix.remove_suffix(1);
  if (prefix.empty()) return hash;
  return std::string(prefix) + "-" + hash;
}

}  // namespace relops::common
