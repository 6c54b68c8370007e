#include "controllers/oncall/oncall_controller.h"

#include <optional>
#include <string>

#include "controllers/common/object_trim.h"
#include "controllers/oncall/calendar_feed.h"
#include "controllers/oncall/oncall_reconciler.h"
#include "operator/alertmanager/alertmanager_flags.h"
#include "operator/cli/flags.h"
#include "operator/runtime/manager.h"
#include "operator/server/certificate_watcher.h"
#include "operator/server/http_server.h"
#include "operator/server/tls.h"

namespace relops::oncall {
namespace {

struct Options {
  // The feeds' own listener (never the metrics one); "0", the default, turns them off.
  std::string calendarBindAddress = "0";
  std::string calendarKeyFile;         // the HMAC key of feed tokens; required with feeds on
  std::string calendarCertDir;         // tls.crt/tls.key: serve the feeds over HTTPS
  std::string routingOutput = "auto";  // auto, alertmanagerconfig, configmap
};

class OnCallKind final : public server::Kind {
 public:
  explicit OnCallKind(std::shared_ptr<alertmanager::Endpoint> alertmanager)
      : alertmanager_(std::move(alertmanager)) {}

  std::vector<kube::ResourceRef> primaries() const override { return {kOnCallRotations}; }

  void addFlags(cli::FlagSet& flags) override {
    flags.addString("calendar-bind-address", &options_.calendarBindAddress,
                    "Address of the OnCallRotation iCalendar feeds "
                    "(/calendars/<namespace>/<name>/<token>.ics, the path in each rotation's "
                    "status.calendarPath); 0 disables them");
    flags.addString("calendar-key-file", &options_.calendarKeyFile,
                    "File with the secret (at least 32 bytes) feed tokens are derived from; "
                    "required when feeds are on, the same for every replica");
    flags.addString("calendar-cert-dir", &options_.calendarCertDir,
                    "Directory with tls.crt and tls.key to serve the feeds over HTTPS; plain "
                    "HTTP (behind a TLS-terminating Ingress) when empty");
    // Shift notices go to --alertmanager-url (shared with the SLO kind's silences).
    alertmanager_->addFlags(flags);
    flags.addString("routing-output", &options_.routingOutput,
                    "Where the routing of rotations with spec.routing goes: alertmanagerconfig "
                    "(monitoring.coreos.com/v1alpha1), configmap (an Alertmanager configuration "
                    "fragment), or auto (alertmanagerconfig when that CRD is installed)");
  }

  base::Result<void> setup(runtime::Manager& manager, int workers) override {
    manager_ = &manager;
    if (options_.calendarBindAddress != "0") {
      if (options_.calendarKeyFile.empty()) {
        return base::Error(base::ErrorKind::kConfig,
                           "--calendar-key-file is required with --calendar-bind-address: feed "
                           "URLs are derived from it");
      }
      RELOPS_ASSIGN(feedKey_, FeedKey::load(options_.calendarKeyFile));
    }
    OnCallReconciler::Options options;
    options.feedKey = feedKey_;
    RELOPS_ASSIGN(options.routing, routingOutput(manager.client(), options_.routingOutput));
    RELOPS_ASSIGN(options.alertmanager, alertmanager_->client());
    reconciler_ = std::make_unique<OnCallReconciler>(manager, options);
    runtime::Controller::Options controllerOptions;
    controllerOptions.name = "oncallrotation";
    controllerOptions.workers = workers;
    // Only relops's own children are watched (and cached); a ConfigMap as its digest (the
    // transform the SLO rules' ConfigMaps share).
    const kube::ResourceRef& children = options.routing == RoutingOutput::kConfigMap
                                            ? kube::resources::kConfigMaps
                                            : kAlertmanagerConfigs;
    manager.setLabelSelector(children, "app.kubernetes.io/managed-by=relops");
    if (options.routing == RoutingOutput::kConfigMap) {
      manager.setTransform(children, common::keepChildEssentials);
    }
    runtime::Controller& controller =
        manager.addController(controllerOptions, kOnCallRotations, *reconciler_);
    for (runtime::Informer* informer : manager.informers(children)) controller.owns(*informer);
    return {};
  }

  base::Result<std::vector<server::HttpServer*>> servers(
      server::AccessReviewer& reviewer) override {
    if (!feedKey_) return std::vector<server::HttpServer*>{};
    const runtime::Logger log = manager_->log().named("calendar-server");
    server::ServerOptions options;
    options.bindAddress = options_.calendarBindAddress;
    options.name = "calendars";
    if (!options_.calendarCertDir.empty()) {
      auto certificate = server::loadTlsCertificate(options_.calendarCertDir);
      if (!certificate.ok()) {
        return std::move(certificate).error().context("load the calendar certificate");
      }
      options.tls = std::move(*certificate);
    }
    server_ = std::make_unique<server::HttpServer>(options, log);
    feeds_ = std::make_unique<CalendarFeeds>(*manager_, *feedKey_, &reviewer,
                                             manager_->log().named("calendars"));
    feeds_->addRoutes(*server_);
    // Certificates are re-read as they rotate (controller-runtime's certwatcher).
    if (options.tls) {
      certificates_ = std::make_unique<server::CertificateWatcher>(
          *server_, options_.calendarCertDir, *options.tls, std::chrono::seconds(10), log);
    }
    return std::vector<server::HttpServer*>{server_.get()};
  }

 private:
  Options options_;
  runtime::Manager* manager_ = nullptr;
  std::optional<FeedKey> feedKey_;  // loaded when feeds are on
  std::shared_ptr<alertmanager::Endpoint> alertmanager_;
  std::unique_ptr<OnCallReconciler> reconciler_;
  std::unique_ptr<server::HttpServer> server_;
  std::unique_ptr<CalendarFeeds> feeds_;
  std::unique_ptr<server::CertificateWatcher> certificates_;
};

}  // namespace

std::unique_ptr<server::Kind> makeKind(std::shared_ptr<alertmanager::Endpoint> alertmanager) {
  return std::make_unique<OnCallKind>(std::move(alertmanager));
}

}  // namespace relops::oncall
