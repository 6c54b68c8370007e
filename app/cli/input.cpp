#include "app/cli/input.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "controllers/common/yaml_json.h"
#include "operator/kube/config.h"
#include "operator/kube/http_client.h"

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

base::Result<std::unique_ptr<kube::Client>> connectToCluster(const std::string& kubeconfig,
                                                             const std::string& context) {
  kube::KubeconfigOptions options;
  options.path = kubeconfig;
  options.context = context;
  auto config = kube::loadClientConfig(options);
  if (!config.ok()) return std::move(config).error();
  auto client = kube::HttpClient::create(*config);
  if (!client.ok()) return std::move(client).error();
  return std::unique_ptr<kube::Client>(std::move(*client));
}

}  // namespace relops::cli
