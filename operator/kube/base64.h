// Standard base64 (RFC 4648 §4), as kubeconfig `*-data` fields and Go's JSON
// encoding of []byte use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relops::kube {

std::string base64Encode(std::string_view bytes);

// Whitespace (line breaks in pasted data) is ignored; padding is optional.
// std::nullopt for any other character outside the alphabet.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace relops::kube
