// The YAML reader of the offline CLI (controllers/common/yaml_json.h): every document of a
// stream to JSON, and JSON back to YAML. Checked: toYaml's output reads back as the same
// single document.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "controllers/common/yaml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relops::common;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto documents = parseYamlDocuments(text);
  if (!documents.ok()) return 0;
  for (const nlohmann::json& document : *documents) {
    const auto again = parseYamlDocuments(toYaml(nlohmann::ordered_json(document)));
    if (!again.ok() || again->size() != 1 || (*again)[0] != document) std::abort();
  }
  return 0;
}
