// DRDrill and DRDrillRun as `relops run` wires them: where Velero runs (--velero-namespace),
// a restore sandbox's default quota (--drill-sandbox-quota), and the two reconcilers with their
// watches (drills and their runs; runs, their Jobs and the workloads a failover waits on).
#pragma once

#include <memory>

#include "operator/server/kind.h"

namespace relops::drill {

std::unique_ptr<server::Kind> makeKind();

}  // namespace relops::drill
