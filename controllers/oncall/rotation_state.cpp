#include "controllers/oncall/rotation_state.h"

#include <algorithm>
#include <string>

namespace relops::oncall {
namespace {

int64_t floorMod(int64_t a, int64_t b) { return ((a % b) + b) % b; }

std::optional<int64_t> indexOf(const std::vector<std::string>& members, const std::string& name) {
  const auto it = std::find(members.begin(), members.end(), name);
  if (it == members.end()) return std::nullopt;
  return it - members.begin();
}

}  // namespace

RotationPosition rotationPosition(const Layer& layer, int64_t offset) {
  return {layer.members, formatLocalTime(layer.start), layer.turnLength.toString(),
          floorMod(offset, static_cast<int64_t>(layer.members.size()))};
}

std::vector<int64_t> carryRotation(const Spec& spec, const Schedule& schedule,
                                   const Status& observed, Instant now) {
  std::vector<int64_t> offsets;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const Layer& layer = spec.layers[i];
    const auto n = static_cast<int64_t>(layer.members.size());
    const LayerStatus* previous = observed.findLayer(layer.name);
    if (previous == nullptr || previous->rotation.members.empty() ||
        previous->rotation.start != formatLocalTime(layer.start) ||
        previous->rotation.turnLength != layer.turnLength.toString()) {
      offsets.push_back(0);  // new layer, or re-anchored on purpose
      continue;
    }
    const RotationPosition& old = previous->rotation;
    if (old.members == layer.members) {
      offsets.push_back(floorMod(old.offset, n));
      continue;
    }
    const int64_t k = schedule.turnAt(i, now).index;
    if (k < 0) {
      offsets.push_back(0);  // not started yet: nobody to keep on call
      continue;
    }
    const auto oldN = static_cast<int64_t>(old.members.size());
    const int64_t oldPosition = floorMod(k + old.offset, oldN);
    std::optional<int64_t> position;
    for (int64_t step = 0; step < oldN && !position; ++step) {
      position = indexOf(layer.members, old.members[(oldPosition + step) % oldN]);
    }
    offsets.push_back(floorMod(position.value_or(0) - k, n));
  }
  return offsets;
}

}  // namespace relops::oncall
