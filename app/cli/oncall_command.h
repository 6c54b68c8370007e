#pragma once

#include <span>
#include <string_view>

#include "app/cli/cli.h"

namespace relops::cli {

// `relops oncall who|schedule`: the OnCallRotation engine offline, on a YAML
// file (or `-` for stdin), computing exactly what the controller would.
int runOncallCommand(std::span<const std::string_view> args, Streams streams);

}  // namespace relops::cli
