// ServiceLevelObjective as `relops run` wires it: where rules go and live numbers come from
// (the --prometheus-* and --rule-* flags), the reconciler and its watches (its rule children,
// the workloads of workload SLOs, the rotations onCallRef names, the ChangeWindows that select
// SLOs).
#pragma once

#include <memory>

#include "operator/server/kind.h"

namespace relops::alertmanager {
class Endpoint;
}

namespace relops::slo {

// `alertmanager` (--alertmanager-url, registered by the on-call kind) is where maintenance
// windows silence SLO alerts.
std::unique_ptr<server::Kind> makeKind(std::shared_ptr<alertmanager::Endpoint> alertmanager);

}  // namespace relops::slo
