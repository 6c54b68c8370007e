// The objects that carry generated rules into a cluster: a monitoring.coreos.com/v1
// PrometheusRule (Prometheus Operator), or — where that CRD is not installed — a
// ConfigMap holding a plain Prometheus rule file. Keys are in a fixed order, so the
// output is deterministic.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "controllers/slo/rules.h"
#include "controllers/slo/slo_types.h"
#include "operator/base/result.h"

namespace relops::slo {

struct OutputOptions {
  // Extra labels on the child object, e.g. what a Prometheus's ruleSelector matches.
  std::map<std::string, std::string> labels;
};

// `{"groups": [...]}`: the rule file format promtool and Prometheus read.
nlohmann::ordered_json ruleFileJson(const std::vector<RuleGroup>& groups);

// The child's name: "relops-slo-<slo name>". kConfig when that is too long for a name.
base::Result<std::string> childName(const ServiceLevelObjective& slo);
// The ConfigMap key of the rule file: "<slo name>.rules.yaml".
std::string ruleFileKey(const ServiceLevelObjective& slo);

// Owned by the SLO (ownerReference, controller) when its uid is known.
base::Result<nlohmann::ordered_json> prometheusRuleJson(const ServiceLevelObjective& slo,
                                                        const GeneratedRules& rules,
                                                        const OutputOptions& options = {});
base::Result<nlohmann::ordered_json> ruleConfigMapJson(const ServiceLevelObjective& slo,
                                                       const GeneratedRules& rules,
                                                       const OutputOptions& options = {});

}  // namespace relops::slo
