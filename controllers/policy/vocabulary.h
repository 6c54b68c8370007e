// The shared types (controllers/common/) the ErrorBudgetPolicy kind speaks in, by their
// short names inside relops::policy: Duration and Percent, label selectors, the freeze exemption,
// instants, conditions, the JSON field reader.
#pragma once

#include "controllers/common/bounded_names.h"
#include "controllers/common/freeze_admission.h"
#include "controllers/common/json_fields.h"
#include "controllers/common/label_selector.h"
#include "controllers/common/rfc3339.h"
#include "controllers/common/units.h"

namespace relops::policy {

using common::appliedAsIs;
using common::boundedName;
using common::Condition;
using common::conditionsJson;
using common::Duration;
using common::fieldError;
using common::formatDecimal;
using common::formatRfc3339;
using common::JsonObject;
using common::kAppliedHashAnnotation;
using common::kExemptAnnotation;
using common::kExemptVerb;
using common::LabelSelector;
using common::labelSelectorJson;
using common::LabelSelectorRequirement;
using common::ObjectMeta;
using common::objectMetaJson;
using common::parseConditions;
using common::parseLabelSelector;
using common::parseObjectMeta;
using common::parseRfc3339;
using common::Percent;
using common::stampAppliedHash;
using common::stringOrEmpty;
using common::TimePoint;

}  // namespace relops::policy
