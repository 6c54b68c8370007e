// One kind as `relops run` wires it (controller-runtime's SetupWithManager): the kind declares
// its own flags, its reconcilers and their watches, and any listener of its own; the
// application only lists kinds (app/kinds.cpp). Each kind implements this in
// controllers/<kind>/<kind>_controller.h.
//
// The order `relops run` calls it in: addFlags() before the command line is parsed; setup()
// once the manager exists (before it runs); servers() after setup(), to start each listener
// with the others and stop it when the manager stops.
#pragma once

#include <string_view>
#include <vector>

#include "operator/base/result.h"
#include "operator/kube/resource.h"

namespace relops::cli {
class FlagSet;
}
namespace relops::runtime {
class Manager;
}

namespace relops::server {

class AccessReviewer;
class HttpServer;

class Kind {
 public:
  virtual ~Kind() = default;
  // The API resources this kind's controllers reconcile (its CRDs): what the chart's RBAC and
  // the Argo CD health checks are generated for (tests/unit/app checks they match crds/).
  virtual std::vector<kube::ResourceRef> primaries() const = 0;
  // Binds the kind's flags of `relops run` to its options.
  virtual void addFlags(cli::FlagSet& flags) = 0;
  // Checks the flags, creates the reconcilers and registers their controllers and watches.
  // Fails (kConfig) on a flag value that cannot work.
  virtual base::Result<void> setup(runtime::Manager& manager, int workers) = 0;
  // Listeners the kind serves on its own address (none by default). `reviewer` authorizes
  // bearer tokens; it outlives the servers.
  virtual base::Result<std::vector<HttpServer*>> servers(AccessReviewer& reviewer) {
    (void)reviewer;
    return std::vector<HttpServer*>{};
  }
};

}  // namespace relops::server
