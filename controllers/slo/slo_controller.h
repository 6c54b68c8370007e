// ServiceLevelObjective as `relops run` wires it: where rules go and live numbers come from
// (the --prometheus-* and --rule-* flags), the reconciler and its watches (its rule children,
// the workloads of workload SLOs, the rotations onCallRef names).
#pragma once

#include <memory>

#include "operator/server/kind.h"

namespace relops::slo {

std::unique_ptr<server::Kind> makeKind();

}  // namespace relops::slo
