// RFC 3339 timestamps as Kubernetes writes them ("2024-03-10T09:00:00Z"), with
// std::chrono only, so pure logic needs no date library.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "operator/base/result.h"

namespace relops::common {

using TimePoint = std::chrono::sys_seconds;

std::string formatRfc3339(TimePoint time);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction]Z"; the fraction is dropped. kConfig naming
// `field` otherwise.
base::Result<TimePoint> parseRfc3339(std::string_view text, std::string_view field);

}  // namespace relops::common
