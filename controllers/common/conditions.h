// Status conditions in the metav1.Condition shape, on nlohmann::json, with
// the semantics of apimachinery's meta.SetStatusCondition, plus the kstatus
// conventions (Ready / Reconciling / Stalled) that kubectl wait, Argo CD and
// Flux read, and the "write status only when it changed" comparison.
//
// A condition is an object:
//   {"type": "Ready", "status": "True", "observedGeneration": 3,
//    "lastTransitionTime": "2026-01-02T03:04:05Z", "reason": "Reconciled", "message": "..."}
// and `conditions` is an array of them, one per type, in insertion order (a
// list map keyed by type).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "controllers/common/json_fields.h"
#include "operator/base/result.h"

namespace relops::common {

namespace condition_status {
inline constexpr std::string_view kTrue = "True";
inline constexpr std::string_view kFalse = "False";
inline constexpr std::string_view kUnknown = "Unknown";
}  // namespace condition_status

// The kstatus condition types every relops object carries.
inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kConditionReconciling = "Reconciling";
inline constexpr std::string_view kConditionStalled = "Stalled";

// metav1.Condition limits (apimachinery's ValidateConditions and the CRD schema).
inline constexpr size_t kMaxConditionMessageBytes = 32768;
inline constexpr size_t kMaxConditionReasonBytes = 1024;

// metav1.Time as the API writes it: RFC 3339, UTC, whole seconds ("...T03:04:05Z").
std::string formatConditionTime(std::chrono::system_clock::time_point time);

// A condition without lastTransitionTime; setCondition stamps it.
nlohmann::json makeCondition(std::string_view type, std::string_view status,
                             std::string_view reason, std::string_view message,
                             int64_t observedGeneration);

// meta.SetStatusCondition: adds the condition if its type is new, else updates
// status, reason, message and observedGeneration in place (keeping the order).
// lastTransitionTime is set only when the condition is new or its status
// changes: to newCondition's own lastTransitionTime if it has one, else `now`.
// A message longer than the API allows is cut (at a UTF-8 boundary) rather
// than having the status write rejected. `conditions` may be null (it becomes
// an array). Returns whether anything changed.
bool setCondition(nlohmann::json& conditions, nlohmann::json newCondition,
                  std::chrono::system_clock::time_point now);

// setCondition(status["conditions"], makeCondition(...), now) on a whole status object.
bool setStatusCondition(nlohmann::json& status, std::string_view type, std::string_view value,
                        std::string_view reason, std::string_view message,
                        int64_t observedGeneration, std::chrono::system_clock::time_point now);

// The condition of that type, or nullptr.
const nlohmann::json* findCondition(const nlohmann::json& conditions, std::string_view type);
bool isTrue(const nlohmann::json& conditions, std::string_view type);
bool isFalse(const nlohmann::json& conditions, std::string_view type);
// Removes the condition of that type; returns whether there was one.
bool removeCondition(nlohmann::json& conditions, std::string_view type);

// Reason: CamelCase, ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$, at most 1024 bytes.
bool isValidConditionReason(std::string_view reason);
// Type: a qualified name such as "Ready" or "relops.dev/BudgetExhausted".
bool isValidConditionType(std::string_view type);
// Everything the API server would check of one condition; an error is a relops
// bug (kInternal) that would otherwise surface as a rejected status write.
base::Result<void> validateCondition(const nlohmann::json& condition);

// meta.SetStatusCondition on the typed list (json_fields.h's Condition): lastTransitionTime moves
// only when the status changes; the order of first appearance is kept.
void setCondition(std::vector<Condition>& conditions, std::string_view type,
                  std::string_view status, std::string_view reason, std::string message,
                  int64_t observedGeneration, std::chrono::sys_seconds now);
void removeCondition(std::vector<Condition>& conditions, std::string_view type);

// Whether writing newStatus over oldStatus would change anything. Deep
// comparison, where a null, an empty array or an empty object counts as the
// field being absent (Go's omitempty drops them on the server side), and 1
// equals 1.0 — so an unchanged status never causes a write.
bool statusChanged(const nlohmann::json& oldStatus, const nlohmann::json& newStatus);

// kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) on a whole status object: each
// sets status.observedGeneration and the conditions' observedGeneration to
// `generation`, creating status.conditions as needed, so that Ready always
// exists and the three conditions never contradict each other.
//
// Done: Ready=True; Reconciling and Stalled removed.
void markReady(nlohmann::json& status, int64_t generation, std::string_view reason,
               std::string_view message, std::chrono::system_clock::time_point now);
// Work under way: Reconciling=True, Ready=Unknown, Stalled removed.
void markReconciling(nlohmann::json& status, int64_t generation, std::string_view reason,
                     std::string_view message, std::chrono::system_clock::time_point now);
// Failed, will retry (a transient error): Ready=False, Reconciling=True, Stalled removed.
void markRetrying(nlohmann::json& status, int64_t generation, std::string_view reason,
                  std::string_view message, std::chrono::system_clock::time_point now);
// Cannot progress without a spec change: Stalled=True, Ready=False (same
// reason and message), Reconciling removed.
void markStalled(nlohmann::json& status, int64_t generation, std::string_view reason,
                 std::string_view message, std::chrono::system_clock::time_point now);

}  // namespace relops::common
