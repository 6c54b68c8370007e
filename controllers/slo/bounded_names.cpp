#include "controllers/slo/bounded_names.h"

#include <openssl/evp.h>

#include <array>

namespace relops::slo {

std::string sha256Hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

std::string boundedName(std::string_view name, std::string_view identity, size_t maxLength,
                        size_t hashLength) {
  if (name.size() <= maxLength) return std::string(name);
  const std::string hash = sha256Hex(identity).substr(0, hashLength);
  std::string_view prefix = name.substr(0, maxLength - hash.size() - 1);
  // A name part must end alphanumeric: no "-" or "." before the separator.
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  while (!prefix.empty() && !alnum(prefix.back())) prefix.remove_suffix(1);
  if (prefix.empty()) return hash;
  return std::string(prefix) + "-" + hash;
}

}  // namespace relops::slo
