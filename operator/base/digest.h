// The digests relops builds names, tokens and cache keys from, in one place: names derived from
// user input carry (a prefix of) a SHA-256 (STYLE.md 16), calendar feed tokens are HMACs, the
// review cache keeps tokens only as their digest. Pinned to the standard algorithms, so a name
// never changes between versions.
#pragma once

#include <string>
#include <string_view>

namespace relops::base {

// SHA-256 of `data`, 64 lowercase hex digits.
std::string sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`, 64 lowercase hex digits.
std::string hmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace relops::base
