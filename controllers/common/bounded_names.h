// Names and label values relops builds from user input (STYLE.md 16): always valid, cut
// and suffixed with a SHA-256 hash when too long, as the CronJob controller bounds the
// names of its Jobs. Collisions between two cut names need a SHA-256 collision.
#pragma once

#include <string>
#include <string_view>

namespace relops::common {

// `name` when it is at most `maxLength` characters; otherwise its prefix, cut so that it
// ends in [a-z0-9], then "-" and the first `hashLength` hex digits of sha256(`identity`).
// A valid DNS subdomain (or label) stays one; `maxLength` must exceed `hashLength` + 1.
std::string boundedName(std::string_view name, std::string_view identity, size_t maxLength,
                        size_t hashLength = 64);

}  // namespace relops::common
