#pragma once

#include <span>
#include <string_view>

#include "app/cli/cli.h"

namespace relops::cli {

// `relops generate -f FILE|DIR [-o yaml|json] [--format prometheusrule|configmap|rulefile]`:
// Prometheus rules of ServiceLevelObjective files, offline, like `sloth generate`.
int runGenerateCommand(std::span<const std::string_view> args, Streams streams);

}  // namespace relops::cli
