// Which controllers `relops run` runs, their flags, and the HTTP routes they
// serve. Each kind's reconciler lives in controllers/<kind>/; this file only
// wires them to the manager.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/oncall/calendar_feed.h"
#include "operator/base/result.h"

namespace relops::runtime {
class Manager;
class Reconciler;
}  // namespace relops::runtime
namespace relops::server {
class AccessReviewer;
class HttpServer;
}  // namespace relops::server
namespace relops::cli {
class FlagSet;
}

namespace relops::app {

struct ControllerFlags {
  // OnCallRotation iCalendar feeds on their own listener (never the metrics
  // one); "0", the default, turns them off. See oncall/calendar_feed.h.
  std::string calendarBindAddress = "0";
  std::string calendarKeyFile;  // the HMAC key of feed tokens; required with feeds on
  std::string calendarCertDir;  // tls.crt/tls.key: serve the feeds over HTTPS

  // ServiceLevelObjective: where live numbers come from and where rules go.
  std::string prometheusUrl;  // empty: rules only, no live error budget
  std::string prometheusBearerTokenFile;
  std::string prometheusCaFile;
  bool prometheusInsecureSkipTlsVerify = false;
  bool prometheusAllowHttpBearerToken = false;  // else a token with http:// is refused
  std::chrono::milliseconds sloRefreshInterval{std::chrono::minutes(1)};
  std::string ruleOutput = "auto";      // auto, prometheusrule, configmap
  std::vector<std::string> ruleLabels;  // key=value, on every rule child
  bool sloNamespaceLabel = true;        // namespace="<the SLO's>" on every selector

  // DRDrill veleroRestore: where Velero's Backups, Restores and resource modifiers live.
  std::string veleroNamespace = "velero";
  std::vector<std::string> drillSandboxQuota;  // resource=quantity, the sandbox's default quota
};

void addControllerFlags(cli::FlagSet& flags, ControllerFlags& values);

// The reconcilers, kept alive for the manager's lifetime.
struct Registered {
  std::vector<std::unique_ptr<runtime::Reconciler>> reconcilers;
  std::optional<oncall::FeedKey> feedKey;  // loaded when feeds are on
  std::unique_ptr<oncall::CalendarFeeds> calendarFeeds;
  runtime::Manager* manager = nullptr;
  ControllerFlags flags;
};

base::Result<Registered> registerControllers(runtime::Manager& manager,
                                             const ControllerFlags& flags, int workers);

// The calendar feed routes, on the calendar listener; `reviewer` authorizes
// the bearer-token form (may be null). A no-op when feeds are off.
void addCalendarRoutes(server::HttpServer& server, Registered& registered,
                       server::AccessReviewer* reviewer);

}  // namespace relops::app
