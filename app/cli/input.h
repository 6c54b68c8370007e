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

}  // namespace relops::cli
