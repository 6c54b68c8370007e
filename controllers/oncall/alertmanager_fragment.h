// The routing of a rotation for an Alertmanager without the prometheus-operator: the
// same route and receivers as the AlertmanagerConfig relops would own, in Alertmanager's
// own configuration format, in a ConfigMap relops-oncall-<name> (key
// <name>.alertmanager.yaml) — as SLO rules go into a ConfigMap without the
// PrometheusRule CRD.
//
// The fragment is what the prometheus-operator would render from that AlertmanagerConfig:
// receiver names prefixed with "<namespace>/relops-oncall-<name>/", a namespace="<namespace>"
// matcher added to the route (so, assembled into a configuration, it routes only its own
// namespace's alerts), `continue: true`. relops never reads a Secret, so a Secret reference
// becomes the file Alertmanager reads it from: /etc/alertmanager/secrets/<secret>/<key>, where
// the prometheus-operator mounts an Alertmanager's spec.secrets (and where a Helm-installed
// Alertmanager's extraSecretMounts can put them); a ConfigMap reference (a CA),
// /etc/alertmanager/configmaps/<configmap>/<key>.
//
// Receiver kinds and fields without a file form in Alertmanager's configuration (SNS's and
// WeChat's keys, OAuth2, proxy headers) have no fragment: an error names the field.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "operator/base/result.h"

namespace relops::oncall {

inline constexpr std::string_view kSecretsDir = "/etc/alertmanager/secrets";
inline constexpr std::string_view kConfigMapsDir = "/etc/alertmanager/configmaps";

// The ConfigMap key of the fragment: "<rotation name>.alertmanager.yaml".
std::string fragmentKey(std::string_view rotation);

// {"route": {...}, "receivers": [...]} from an AlertmanagerConfig child (alertmanagerConfigJson):
// a route to add under the root route's `routes`, the receivers to add to `receivers`.
// kConfig naming the field when a receiver has no form outside the prometheus-operator.
base::Result<nlohmann::ordered_json> alertmanagerFragment(const nlohmann::json& alertmanagerConfig);

// The ConfigMap child carrying that fragment as YAML, with the AlertmanagerConfig's
// name, labels and owner.
base::Result<nlohmann::json> routingConfigMapJson(const nlohmann::json& alertmanagerConfig);

}  // namespace relops::oncall
