#include "app/cli/input.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "controllers/common/yaml_json.h"

namespace relops::cli {

base::Result<std::vector<nlohmann::json>> readDocuments(const std::string& file) {
  std::ostringstream buffer;
  if (file == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return base::Error(base::ErrorKind::kConfig, "cannot read the file");
    buffer << in.rdbuf();
  }
  return common::parseYamlDocuments(buffer.str());
}

}  // namespace relops::cli
