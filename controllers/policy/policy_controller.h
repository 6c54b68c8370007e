// ErrorBudgetPolicy as `relops run` wires it: the reconciler and its watches (policies, the
// SLOs and workloads they select, the admission objects that enforce a freeze). No flags.
#pragma once

#include <memory>

#include "operator/server/kind.h"

namespace relops::policy {

std::unique_ptr<server::Kind> makeKind();

}  // namespace relops::policy
