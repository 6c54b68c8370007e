// Load per participant and how evenly it is spread. The balance score is
// Grafana OnCall's schedule quality measure: the mean, over every pair of
// participants, of min(hours) / max(hours) — 1 when everyone carries the same,
// towards 0 when some carry everything.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "controllers/oncall/oncall_types.h"
#include "controllers/oncall/schedule.h"

namespace relops::oncall {

struct ParticipantLoad {
  std::string participant;
  std::chrono::seconds onCall{0};
  // Outside working hours (09:00-17:00 local, Monday to Friday); includes
  // the weekend.
  std::chrono::seconds offHours{0};
  std::chrono::seconds weekend{0};  // Saturday and Sunday, local
};

struct Balance {
  double score = 1.0;  // 0..1
  double meanHours = 0;
  // Who carries more than the mean by more than fairness.allowedImbalance.
  std::vector<std::string> overloaded;
};

// Every participant of the spec, in spec order, over the final schedule in
// [from, to).
std::vector<ParticipantLoad> computeLoad(const Schedule& schedule, Instant from, Instant to);

// The pool whose balance counts is the participants who are members of some
// layer: someone who only ever covers through overrides is not expected to
// carry an equal share.
Balance computeBalance(const Spec& spec, const std::vector<ParticipantLoad>& load);

// "12.5": hours with one decimal, for status.
std::string formatHours(std::chrono::seconds duration);
// "87.5": a 0..1 fraction as a percentage with one decimal.
std::string formatPercent(double fraction);

}  // namespace relops::oncall
