#pragma once

#include <span>
#include <string_view>

#include "app/cli/cli.h"

namespace relops::cli {

// `relops drill next|report`: a DRDrill's schedule offline, and the audit
// record of its retained runs from the cluster.
int runDrillCommand(std::span<const std::string_view> args, Streams streams);

}  // namespace relops::cli
