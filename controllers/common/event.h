// An Event a kind's pure decide asks for; its reconciler records it (EventRecorder::recordAll)
// about the object it decided on.
#pragma once

#include <string>

namespace relops::common {

struct Event {
  std::string type;  // "Normal" or "Warning"
  std::string reason;
  std::string message;
  bool operator==(const Event&) const = default;
};

}  // namespace relops::common
