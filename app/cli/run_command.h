#pragma once

#include <span>
#include <string_view>

#include "app/cli/cli.h"

namespace relops::cli {

// `relops run`: the operator. Flags follow kubebuilder's scaffold.
int runRunCommand(std::span<const std::string_view> args, Streams streams);

}  // namespace relops::cli
