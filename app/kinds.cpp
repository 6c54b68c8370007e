#include "app/kinds.h"

#include "app/cli/flags.h"
#include "controllers/drill/drill_reconciler.h"
#include "controllers/oncall/oncall_reconciler.h"
#include "controllers/policy/policy_reconciler.h"
#include "controllers/slo/prometheus.h"
#include "controllers/slo/slo_reconciler.h"
#include "operator/kube/client.h"
#include "operator/runtime/manager.h"
#include "operator/server/http_server.h"

namespace relops::app {

void addControllerFlags(cli::FlagSet& flags, ControllerFlags& values) {
  flags.addString("calendar-bind-address", &values.calendarBindAddress,
                  "Address of the OnCallRotation iCalendar feeds "
                  "(/calendars/<namespace>/<name>/<token>.ics, the path in each rotation's "
                  "status.calendarPath); 0 disables them");
  flags.addString("calendar-key-file", &values.calendarKeyFile,
                  "File with the secret (at least 32 bytes) feed tokens are derived from; "
                  "required when feeds are on, the same for every replica");
  flags.addString("calendar-cert-dir", &values.calendarCertDir,
                  "Directory with tls.crt and tls.key to serve the feeds over HTTPS; plain "
                  "HTTP (behind a TLS-terminating Ingress) when empty");
  flags.addString("prometheus-url", &values.prometheusUrl,
                  "Prometheus HTTP API base URL (http://prometheus:9090) to read live SLIs and "
                  "error budgets from; empty generates rules only");
  flags.addString("prometheus-bearer-token-file", &values.prometheusBearerTokenFile,
                  "File with a bearer token for Prometheus, re-read as it rotates");
  flags.addString("prometheus-ca-file", &values.prometheusCaFile,
                  "PEM CA bundle that signs Prometheus's serving certificate");
  flags.addBool("prometheus-insecure-skip-tls-verify", &values.prometheusInsecureSkipTlsVerify,
                "Do not verify Prometheus's certificate (testing only)");
  flags.addBool("prometheus-allow-http-bearer-token", &values.prometheusAllowHttpBearerToken,
                "Allow --prometheus-bearer-token-file with a plain http:// --prometheus-url "
                "(the token travels unencrypted; only for a trusted path such as loopback)");
  flags.addDuration("slo-refresh-interval", &values.sloRefreshInterval,
                    "How often each SLO's numbers are read from Prometheus (spread over the "
                    "interval)");
  flags.addString("rule-output", &values.ruleOutput,
                  "Where SLO rules go: prometheusrule (monitoring.coreos.com/v1), configmap (a "
                  "Prometheus rule file), or auto (prometheusrule when that CRD is installed)");
  flags.addStrings("rule-labels", &values.ruleLabels,
                   "key=value labels put on every rule child, e.g. what a Prometheus's "
                   "ruleSelector matches (repeatable, comma-separated)");
  flags.addString("velero-namespace", &values.veleroNamespace,
                  "Where Velero runs: DRDrill veleroRestore runs read its Backups and create "
                  "their Restores and resource-modifier ConfigMaps there");
  flags.addStrings("drill-sandbox-quota", &values.drillSandboxQuota,
                   "resource=quantity entries of the ResourceQuota a DRDrill restore sandbox "
                   "gets when its source namespace has none, e.g. pods=20,requests.cpu=4 "
                   "(repeatable, comma-separated; default: relops's built-in quota)");
  flags.addBool("slo-namespace-label", &values.sloNamespaceLabel,
                "Add namespace=\"<the SLO's namespace>\" to every selector of an SLO, in its rules "
                "and in the queries relops sends to Prometheus (prometheus-operator's "
                "enforcedNamespaceLabel); false only on single-tenant clusters");
}

namespace {

// `auto` asks discovery once at startup whether the Prometheus Operator's CRD is there.
base::Result<slo::RuleOutput> ruleOutput(kube::Client& client, const std::string& flag) {
  if (flag == "prometheusrule") return slo::RuleOutput::kPrometheusRule;
  if (flag == "configmap") return slo::RuleOutput::kConfigMap;
  if (flag != "auto") {
    return base::Error(base::ErrorKind::kConfig,
                       "--rule-output must be auto, prometheusrule or configmap, not " + flag);
  }
  auto resources = client.getRaw("/apis/monitoring.coreos.com/v1");
  if (!resources.ok()) {
    if (resources.error().kind() == base::ErrorKind::kNotFound) return slo::RuleOutput::kConfigMap;
    return std::move(resources).error().context("discover monitoring.coreos.com/v1");
  }
  for (const auto& resource : resources->value("resources", nlohmann::json::array())) {
    if (resource.value("name", "") == "prometheusrules") return slo::RuleOutput::kPrometheusRule;
  }
  return slo::RuleOutput::kConfigMap;
}

base::Result<slo::SloControllerOptions> sloOptions(runtime::Manager& manager,
                                                   const ControllerFlags& flags) {
  slo::SloControllerOptions options;
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
    slo::PrometheusOptions prometheus;
    prometheus.url = flags.prometheusUrl;
    prometheus.bearerTokenFile = flags.prometheusBearerTokenFile;
    prometheus.caFile = flags.prometheusCaFile;
    prometheus.insecureSkipTlsVerify = flags.prometheusInsecureSkipTlsVerify;
    prometheus.allowHttpBearerToken = flags.prometheusAllowHttpBearerToken;
    auto api = slo::connectPrometheus(prometheus);
    if (!api.ok()) return std::move(api).error();
    options.prometheus = std::move(*api);
  }
  return options;
}

}  // namespace

base::Result<Registered> registerControllers(runtime::Manager& manager,
                                             const ControllerFlags& flags, int workers) {
  Registered registered;
  registered.manager = &manager;
  registered.flags = flags;

  if (flags.calendarBindAddress != "0") {
    if (flags.calendarKeyFile.empty()) {
      return base::Error(base::ErrorKind::kConfig,
                         "--calendar-key-file is required with --calendar-bind-address: feed "
                         "URLs are derived from it");
    }
    auto key = oncall::FeedKey::load(flags.calendarKeyFile);
    if (!key.ok()) return std::move(key).error();
    registered.feedKey = std::move(*key);
  }
  auto oncall = std::make_unique<oncall::OnCallReconciler>(manager, registered.feedKey);
  runtime::Controller::Options options;
  options.name = "oncallrotation";
  options.workers = workers;
  manager.addController(options, oncall::kOnCallRotations, *oncall);
  registered.reconcilers.push_back(std::move(oncall));

  auto drills = std::make_unique<drill::DrillReconciler>(manager);
  drill::DrillReconciler::add(manager, *drills, workers);
  registered.reconcilers.push_back(std::move(drills));
  drill::RunOptions runOptions;
  runOptions.veleroNamespace = flags.veleroNamespace;
  for (const std::string& entry : flags.drillSandboxQuota) {
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
      return base::Error(base::ErrorKind::kConfig,
                         "--drill-sandbox-quota wants resource=quantity, not " + entry);
    }
    runOptions.sandboxQuotaHard[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  auto runs = std::make_unique<drill::RunReconciler>(manager, std::move(runOptions));
  drill::RunReconciler::add(manager, *runs, workers);
  registered.reconcilers.push_back(std::move(runs));

  auto sloOptionsResult = sloOptions(manager, flags);
  if (!sloOptionsResult.ok()) return std::move(sloOptionsResult).error();
  auto slos = std::make_unique<slo::SloReconciler>(manager, std::move(*sloOptionsResult));
  slo::SloReconciler::add(manager, *slos, workers);
  registered.reconcilers.push_back(std::move(slos));

  auto policies = std::make_unique<policy::PolicyReconciler>(manager);
  policy::PolicyReconciler::add(manager, *policies, workers);
  registered.reconcilers.push_back(std::move(policies));
  return registered;
}

void addCalendarRoutes(server::HttpServer& server, Registered& registered,
                       server::AccessReviewer* reviewer) {
  if (!registered.feedKey) return;
  registered.calendarFeeds =
      std::make_unique<oncall::CalendarFeeds>(*registered.manager, *registered.feedKey, reviewer,
                                              registered.manager->log().named("calendars"));
  registered.calendarFeeds->addRoutes(server);
}

}  // namespace relops::app
