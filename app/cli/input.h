// What the offline subcommands read: a file named by -f, or standard input for "-".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/base/result.h"

namespace relops::cli {

// The YAML or JSON documents of `file`; "-" reads standard input. A file that cannot be
// opened is "cannot read the file"; a YAML error names the line.
base::Result<std::vector<nlohmann::json>> readDocuments(const std::string& file);

}  // namespace relops::cli
