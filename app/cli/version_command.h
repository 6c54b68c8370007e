#pragma once

#include <span>
#include <string_view>

#include "app/cli/cli.h"

namespace relops::cli {

// `relops version [-o json]`: the version, like `kubectl version --client`.
int runVersionCommand(std::span<const std::string_view> args, Streams streams);

}  // namespace relops::cli
