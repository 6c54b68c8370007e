#include "controllers/slo/rule_output.h"

#include <algorithm>
#include <functional>

#include "controllers/common/object_trim.h"
#include "controllers/slo/vocabulary.h"

namespace relops::slo {
namespace {

using nlohmann::ordered_json;

ordered_json stringMap(const std::map<std::string, std::string>& entries) {
  ordered_json object = ordered_json::object();
  for (const auto& [key, value] : entries) object[key] = value;
  return object;
}

ordered_json ruleJson(const Rule& rule) {
  ordered_json out = ordered_json::object();
  if (!rule.record.empty()) {
    out["record"] = rule.record;
  } else {
    out["alert"] = rule.alert;
  }
  out["expr"] = rule.expr;
  if (rule.forDuration) out["for"] = *rule.forDuration;
  if (!rule.labels.empty()) out["labels"] = stringMap(rule.labels);
  if (!rule.annotations.empty()) out["annotations"] = stringMap(rule.annotations);
  return out;
}

base::Result<ordered_json> childMetadata(const ServiceLevelObjective& slo,
                                         const OutputOptions& options) {
  auto name = childName(slo);
  if (!name) return std::move(name).error();
  std::map<std::string, std::string> labels = options.labels;
  labels["app.kubernetes.io/managed-by"] = "relops";
  // A label value holds at most 63 characters; the ownerReference links longer names.
  if (slo.metadata.name.size() <= 63) labels["relops.dev/slo"] = slo.metadata.name;
  ordered_json metadata = {{"name", *name}, {"namespace", slo.metadata.namespace_}};
  metadata["labels"] = stringMap(labels);
  if (!slo.metadata.uid.empty()) {
    metadata["ownerReferences"] = ordered_json::array({ordered_json{
        {"apiVersion", kApiVersion},
        {"kind", kSloKind},
        {"name", slo.metadata.name},
        {"uid", slo.metadata.uid},
        {"controller", true},
        {"blockOwnerDeletion", true},
    }});
  }
  return metadata;
}

}  // namespace

ordered_json ruleFileJson(const std::vector<RuleGroup>& groups) {
  ordered_json list = ordered_json::array();
  for (const RuleGroup& group : groups) {
    ordered_json rules = ordered_json::array();
    for (const Rule& rule : group.rules) rules.push_back(ruleJson(rule));
    list.push_back(ordered_json{{"name", group.name}, {"rules", std::move(rules)}});
  }
  return ordered_json{{"groups", std::move(list)}};
}

base::Result<std::string> childName(const ServiceLevelObjective& slo) {
  std::string name = "relops-slo-" + slo.metadata.name;
  if (name.size() > 253) {
    return base::Error(base::ErrorKind::kConfig,
                       "metadata.name: at most 242 characters, so that the rules object "
                       "relops-slo-<name> is a valid name");
  }
  return name;
}

std::string ruleFileKey(const ServiceLevelObjective& slo) {
  return slo.metadata.name + ".rules.yaml";
}

base::Result<ordered_json> prometheusRuleJson(const ServiceLevelObjective& slo,
                                              const GeneratedRules& rules,
                                              const OutputOptions& options) {
  auto metadata = childMetadata(slo, options);
  if (!metadata) return std::move(metadata).error();
  return ordered_json{{"apiVersion", "monitoring.coreos.com/v1"},
                      {"kind", "PrometheusRule"},
                      {"metadata", std::move(*metadata)},
                      {"spec", ruleFileJson(rules.groups)}};
}

base::Result<ordered_json> ruleConfigMapJson(const ServiceLevelObjective& slo,
                                             const GeneratedRules& rules,
                                             const OutputOptions& options) {
  auto metadata = childMetadata(slo, options);
  if (!metadata) return std::move(metadata).error();
  ordered_json data = ordered_json::object();
  data[ruleFileKey(slo)] = toYaml(ruleFileJson(rules.groups));
  return ordered_json{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", std::move(*metadata)},
                      {"data", std::move(data)}};
}

}  // namespace relops::slo
