// The kinds `relops run` runs, in the order their flags are listed and their controllers
// registered. Each kind wires itself (controllers/<kind>/<kind>_controller.h); adding one is a
// line here (README, "Adding a kind").
#pragma once

#include <memory>
#include <vector>

#include "operator/server/kind.h"

namespace relops::app {

std::vector<std::unique_ptr<server::Kind>> kinds();

}  // namespace relops::app
