// YAML documents to JSON and back, for the offline CLI and the ConfigMap rule file.
// Plain scalars resolve as in YAML 1.2's core schema (true, 12, 1.5, null) and quoted
// ones stay strings, so `objective: 99.9` reads as a number and is rejected the way the
// API server would reject it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/result.h"

namespace relops::common {

// Every document of a YAML stream; empty documents are skipped. Errors are kConfig with
// the line and column.
base::Result<std::vector<nlohmann::json>> parseYamlDocuments(std::string_view text);

// Block-style YAML of `value`, keys in the order given. Strings that would read back as
// another type ("99.9", "true", "") are double-quoted; multi-line strings are literal blocks.
std::string toYaml(const nlohmann::ordered_json& value);

}  // namespace relops::common
