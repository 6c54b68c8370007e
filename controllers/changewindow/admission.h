// The objects that make the API server enforce a Freeze ChangeWindow, as pure functions: one
// ValidatingAdmissionPolicy for all windows, parameterised by the ChangeWindow so its denial
// reads the window's live status and reason, and one binding per window whose freeze is on
// (or about to be: decide's `bind`), its workloadSelector as objectSelector, only in its
// namespace. The rules are the ErrorBudgetPolicy freeze's (controllers/common/
// freeze_admission.h): pod-template changes denied, scaling allowed, the same exemption.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "controllers/changewindow/changewindow_types.h"

namespace relops::changewindow {

// The CRD that owns the admission policy: removing relops's CRDs removes every freeze.
inline constexpr char kChangeWindowCrd[] = "changewindows.relops.dev";
inline constexpr char kWindowAdmissionPolicy[] = "relops.dev-changewindow-freeze";
// Labels on a binding: which ChangeWindow it enforces (the name is an annotation: a label
// value cannot hold 253 characters).
inline constexpr char kWindowNamespaceLabel[] = "relops.dev/changewindow-namespace";
inline constexpr char kWindowHashLabel[] = "relops.dev/changewindow-hash";
inline constexpr char kWindowNameAnnotation[] = "relops.dev/changewindow-name";

// `crdUid`, the UID of kChangeWindowCrd, makes that CRD the policy's owner.
nlohmann::json windowAdmissionPolicy(const std::string& crdUid = "");
// `admissionPolicyUid` makes the admission policy the binding's owner, so no freeze outlives
// the policy (or relops's CRDs).
nlohmann::json windowBinding(const ChangeWindow& window,
                             const std::string& admissionPolicyUid = "");
std::string windowBindingName(const std::string& namespace_, const std::string& name);

}  // namespace relops::changewindow
