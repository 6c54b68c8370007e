// The member-change rule. A layer's order is fixed by its anchor and turn
// length, but editing the members would, computed naively (turn k belongs to
// members[k mod n]), reshuffle who is on call the moment the edit lands. So
// the position of each rotation is carried in status (GoAlert keeps a
// rotation's current position the same way) and, when only the members
// change, the order is re-based so that:
//   - the person on call in that layer stays on call until the turn ends,
//     and the rotation continues with whoever follows them in the new list;
//   - if that person was removed, the turn passes at once to the next member
//     of the old order who is still in the list (or, if nobody is, to the
//     first member of the new list).
// A change of the anchor (start) or of the turn length is an explicit
// re-anchoring: the order restarts from the first member at the anchor.
#pragma once

#include <cstdint>
#include <vector>

#include "controllers/oncall/oncall_types.h"
#include "controllers/oncall/schedule.h"

namespace relops::oncall {

// One offset per spec layer (see Schedule::compile). `schedule` is any
// compilation of `spec` (turn indices do not depend on offsets); `observed` is
// the status last written, empty when there is none.
std::vector<int64_t> carryRotation(const Spec& spec, const Schedule& schedule,
                                   const Status& observed, Instant now);

// What status records for layer i computed with `offset`.
RotationPosition rotationPosition(const Layer& layer, int64_t offset);

}  // namespace relops::oncall
