// OnCallRotation as `relops run` wires it: the reconciler and its watch, the iCalendar feed
// flags, and the feed listener (--calendar-bind-address, off by default).
#pragma once

#include <memory>

#include "operator/server/kind.h"

namespace relops::oncall {

std::unique_ptr<server::Kind> makeKind();

}  // namespace relops::oncall
