// The shared types (controllers/common/) the SLO kind speaks in, by their short names
// inside relops::slo: Duration and Percent, instants, the JSON field reader, the YAML reader.
#pragma once

#include "controllers/common/json_fields.h"
#include "controllers/common/rfc3339.h"
#include "controllers/common/units.h"
#include "controllers/common/yaml_json.h"

namespace relops::slo {

using common::Condition;
using common::conditionsJson;
using common::Duration;
using common::fieldError;
using common::formatDecimal;
using common::formatRfc3339;
using common::JsonObject;
using common::ObjectMeta;
using common::objectMetaJson;
using common::parseConditions;
using common::parseObjectMeta;
using common::parseRfc3339;
using common::parseYamlDocuments;
using common::Percent;
using common::stringOrEmpty;
using common::TimePoint;
using common::toYaml;

}  // namespace relops::slo
