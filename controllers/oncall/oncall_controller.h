// OnCallRotation as `relops run` wires it: the reconciler and its watch, the iCalendar feed
// flags, and the feed listener (--calendar-bind-address, off by default).
#pragma once

#include <memory>

#include "operator/server/kind.h"

namespace relops::alertmanager {
class Endpoint;
}

namespace relops::oncall {

// `alertmanager` is shared with the other kinds that use it; this kind registers its flags.
std::unique_ptr<server::Kind> makeKind(std::shared_ptr<alertmanager::Endpoint> alertmanager);

}  // namespace relops::oncall
