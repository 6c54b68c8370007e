#include "app/cli/input.h"

#include <algorithm>
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

base::Result<std::vector<nlohmann::json>> listAtMost(kube::Client& client,
                                                     const kube::ResourceRef& resource,
                                                     const std::string& namespace_,
                                                     const std::string& selector, size_t max) {
  std::vector<nlohmann::json> items;
  kube::ListOptions options;
  options.labelSelector = selector;
  options.limit = static_cast<int>(std::clamp<size_t>(max + 1, 1, 500));
  do {
    auto page = client.list(resource, namespace_, options);
    if (!page) return std::move(page).error();
    for (nlohmann::json& item : page->items) items.push_back(std::move(item));
    if (items.size() > max) {
      return base::Error(base::ErrorKind::kConfig,
                         "more than " + std::to_string(max) + " " + resource.kind +
                             " objects selected; narrow the selection with -n or -l");
    }
    options.continueToken = page->continueToken;
  } while (!options.continueToken.empty());
  return items;
}

}  // namespace relops::cli
