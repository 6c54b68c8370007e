// ChangeWindow as `relops run` wires it: the reconciler and its watches (windows, the
// workloads and SLOs they select, the admission bindings that enforce a freeze). No flags.
#pragma once

#include <memory>

#include "operator/server/kind.h"

namespace relops::changewindow {

std::unique_ptr<server::Kind> makeKind();

}  // namespace relops::changewindow
