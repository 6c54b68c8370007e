// What the subcommands read: a file named by -f, or standard input for "-"; or the cluster a
// kubeconfig names.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/base/result.h"
#include "operator/kube/client.h"

namespace relops::cli {

// The YAML or JSON documents of `file`; "-" reads standard input. A file that cannot be
// opened is "cannot read the file"; a YAML error names the line.
base::Result<std::vector<nlohmann::json>> readDocuments(const std::string& file);

// A client of the cluster found as kubectl finds it: `kubeconfig` (or KUBECONFIG, in-cluster,
// ~/.kube/config) and its `context` ("" for the current one).
base::Result<std::unique_ptr<kube::Client>> connectToCluster(const std::string& kubeconfig,
                                                             const std::string& context);

// The objects of `resource` in `namespace_` ("" for all) matching `selector`, listed page by
// page; fails (kConfig, naming the kind) as soon as there are more than `max`, so a larger
// selection is refused, never held in memory.
base::Result<std::vector<nlohmann::json>> listAtMost(kube::Client& client,
                                                     const kube::ResourceRef& resource,
                                                     const std::string& namespace_,
                                                     const std::string& selector, size_t max);

}  // namespace relops::cli
