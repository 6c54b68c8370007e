#include "controllers/slo/slo_controller.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "controllers/slo/prometheus.h"
#include "controllers/slo/slo_reconciler.h"
#include "operator/alertmanager/alertmanager_flags.h"
#include "operator/cli/flags.h"
#include "operator/kube/client.h"
#include "operator/runtime/manager.h"

namespace relops::slo {
namespace {

struct Flags {
  std::string prometheusUrl;  // empty: rules only, no live error budget
  std::string prometheusBearerTokenFile;
  std::string prometheusCaFile;
  bool prometheusInsecureSkipTlsVerify = false;
  bool prometheusAllowHttpBearerToken = false;  // else a token with http:// is refused
  std::chrono::milliseconds sloRefreshInterval{std::chrono::minutes(1)};
  std::string ruleOutput = "auto";      // auto, prometheusrule, configmap
  std::vector<std::string> ruleLabels;  // key=value, on every rule child
  bool sloNamespaceLabel = true;        // namespace="<the SLO's>" on every selector
};

// `auto` asks discovery once at startup whether the Prometheus Operator's CRD is there.
base::Result<RuleOutput> ruleOutput(kube::Client& client, const std::string& flag) {
  if (flag == "prometheusrule") return RuleOutput::kPrometheusRule;
  if (flag == "configmap") return RuleOutput::kConfigMap;
  if (flag != "auto") {
    return base::Error(base::ErrorKind::kConfig,
                       "--rule-output must be auto, prometheusrule or configmap, not " + flag);
  }
  auto resources = client.getRaw("/apis/monitoring.coreos.com/v1");
  if (!resources.ok()) {
    if (resources.error().kind() == base::ErrorKind::kNotFound) return RuleOutput::kConfigMap;
    return std::move(resources).error().context("discover monitoring.coreos.com/v1");
  }
  for (const auto& resource : resources->value("resources", nlohmann::json::array())) {
    if (resource.value("name", "") == "prometheusrules") return RuleOutput::kPrometheusRule;
  }
  return RuleOutput::kConfigMap;
}

base::Result<SloControllerOptions> sloOptions(runtime::Manager& manager, const Flags& flags) {
  SloControllerOptions options;
  auto output = ruleOutput(manager.client(), flags.ruleOutput);
  if (!output.ok()) return std::move(output).error();
  options.output = *output;
  for (const std::string& label : flags.ruleLabels) {
    const auto equals = label.find('=');
    if (equals == std::string::npos || equals == 0) {
      return base::Error(base::ErrorKind::kConfig, "--rule-labels wants key=value, not " + label);
    }
    options.ruleLabels[label.substr(0, equals)] = label.substr(equals + 1);
  }
  options.namespaceLabel = flags.sloNamespaceLabel;
  options.refreshInterval =
      std::max(std::chrono::seconds(1),
               std::chrono::duration_cast<std::chrono::seconds>(flags.sloRefreshInterval));
  if (!flags.prometheusUrl.empty()) {
    PrometheusOptions prometheus;
    prometheus.url = flags.prometheusUrl;
    prometheus.bearerTokenFile = flags.prometheusBearerTokenFile;
    prometheus.caFile = flags.prometheusCaFile;
    prometheus.insecureSkipTlsVerify = flags.prometheusInsecureSkipTlsVerify;
    prometheus.allowHttpBearerToken = flags.prometheusAllowHttpBearerToken;
    auto api = connectPrometheus(prometheus);
    if (!api.ok()) return std::move(api).error();
    options.prometheus = std::move(*api);
  }
  return options;
}

// Whether the ChangeWindow CRD is installed (asked once at startup, as `auto` rule output is):
// without it the SLO kind watches no windows.
base::Result<bool> changeWindowsInstalled(kube::Client& client) {
  auto resources = client.getRaw("/apis/relops.dev/v1alpha1");
  if (!resources.ok()) {
    if (resources.error().kind() == base::ErrorKind::kNotFound) return false;
    return std::move(resources).error().context("discover relops.dev/v1alpha1");
  }
  for (const auto& resource : resources->value("resources", nlohmann::json::array())) {
    if (resource.value("name", "") == kSloChangeWindows.resource) return true;
  }
  return false;
}

class SloKind final : public server::Kind {
 public:
  explicit SloKind(std::shared_ptr<alertmanager::Endpoint> alertmanager)
      : alertmanager_(std::move(alertmanager)) {}

  std::vector<kube::ResourceRef> primaries() const override { return {kServiceLevelObjectives}; }

  void addFlags(cli::FlagSet& flags) override {
    flags.addString("prometheus-url", &flags_.prometheusUrl,
                    "Prometheus HTTP API base URL (http://prometheus:9090) to read live SLIs and "
                    "error budgets from; empty generates rules only");
    flags.addString("prometheus-bearer-token-file", &flags_.prometheusBearerTokenFile,
                    "File with a bearer token for Prometheus, re-read as it rotates");
    flags.addString("prometheus-ca-file", &flags_.prometheusCaFile,
                    "PEM CA bundle that signs Prometheus's serving certificate");
    flags.addBool("prometheus-insecure-skip-tls-verify", &flags_.prometheusInsecureSkipTlsVerify,
                  "Do not verify Prometheus's certificate (testing only)");
    flags.addBool("prometheus-allow-http-bearer-token", &flags_.prometheusAllowHttpBearerToken,
                  "Allow --prometheus-bearer-token-file with a plain http:// --prometheus-url "
                  "(the token travels unencrypted; only for a trusted path such as loopback)");
    flags.addDuration("slo-refresh-interval", &flags_.sloRefreshInterval,
                      "How often each SLO's numbers are read from Prometheus (spread over the "
                      "interval)");
    flags.addString("rule-output", &flags_.ruleOutput,
                    "Where SLO rules go: prometheusrule (monitoring.coreos.com/v1), configmap (a "
                    "Prometheus rule file), or auto (prometheusrule when that CRD is installed)");
    flags.addStrings("rule-labels", &flags_.ruleLabels,
                     "key=value labels put on every rule child, e.g. what a Prometheus's "
                     "ruleSelector matches (repeatable, comma-separated)");
    flags.addBool(
        "slo-namespace-label", &flags_.sloNamespaceLabel,
        "Add namespace=\"<the SLO's namespace>\" to every selector of an SLO, in its rules "
        "and in the queries relops sends to Prometheus (prometheus-operator's "
        "enforcedNamespaceLabel); false only on single-tenant clusters");
  }

  base::Result<void> setup(runtime::Manager& manager, int workers) override {
    SloControllerOptions options;
    RELOPS_ASSIGN(options, sloOptions(manager, flags_));
    RELOPS_ASSIGN(options.maintenanceWindows, changeWindowsInstalled(manager.client()));
    // Silences go to the Alertmanager of --alertmanager-url (registered by the on-call kind).
    RELOPS_ASSIGN(options.alertmanager, alertmanager_->client());
    reconciler_ = std::make_unique<SloReconciler>(manager, std::move(options));
    SloReconciler::add(manager, *reconciler_, workers);
    return {};
  }

 private:
  Flags flags_;
  std::shared_ptr<alertmanager::Endpoint> alertmanager_;
  std::unique_ptr<SloReconciler> reconciler_;
};

}  // namespace

std::unique_ptr<server::Kind> makeKind(std::shared_ptr<alertmanager::Endpoint> alertmanager) {
  return std::make_unique<SloKind>(std::move(alertmanager));
}

}  // namespace relops::slo
