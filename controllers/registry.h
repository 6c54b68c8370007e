// Which controllers `relops run` runs, their flags, and the HTTP routes they
// serve. Each kind's reconciler lives in controllers/<kind>/; this file only
// wires them to the manager.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "operator/base/result.h"

namespace relops::runtime {
class Manager;
class Reconciler;
}  // namespace relops::runtime
namespace relops::server {
class HttpServer;
}
namespace relops::cli {
class FlagSet;
}

namespace relops::controllers {

struct ControllerFlags {
  // Serves /calendars/<namespace>/<name>.ics; off by default since a feed
  // exposes people's names to whoever can reach the metrics port.
  bool enableCalendars = false;

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
};

void addControllerFlags(cli::FlagSet& flags, ControllerFlags& values);

// The reconcilers, kept alive for the manager's lifetime.
struct Registered {
  std::vector<std::unique_ptr<runtime::Reconciler>> reconcilers;
  runtime::Manager* manager = nullptr;
  ControllerFlags flags;
};

base::Result<Registered> registerControllers(runtime::Manager& manager,
                                             const ControllerFlags& flags, int workers);

void addRoutes(server::HttpServer& server, Registered& registered);

}  // namespace relops::controllers
