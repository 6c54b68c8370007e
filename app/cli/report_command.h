#pragma once

#include <span>
#include <string_view>

#include "app/cli/cli.h"

namespace relops::cli {

// `relops report`: the reliability report of a period (app/report), read from the cluster.
int runReportCommand(std::span<const std::string_view> args, Streams streams);

}  // namespace relops::cli
