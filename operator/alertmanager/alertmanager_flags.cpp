#include "operator/alertmanager/alertmanager_flags.h"

#include "operator/cli/flags.h"

namespace relops::alertmanager {

void Endpoint::addFlags(cli::FlagSet& flags) {
  std::lock_guard lock(mutex_);
  if (registeredOn_ == &flags) return;
  registeredOn_ = &flags;
  flags.addString("alertmanager-url", &options_.url,
                  "Alertmanager base URL (http://alertmanager-operated.monitoring:9093, API v2) "
                  "that shift notices of rotations with spec.routing are posted to and where "
                  "maintenance windows silence SLO alerts; empty: neither");
  flags.addString("alertmanager-ca-file", &options_.caFile,
                  "PEM CA bundle that signs Alertmanager's serving certificate");
}

base::Result<AlertmanagerApi*> Endpoint::client() {
  std::lock_guard lock(mutex_);
  if (client_) return client_.get();
  if (options_.url.empty()) return static_cast<AlertmanagerApi*>(nullptr);
  auto connected = connectAlertmanager(options_);
  if (!connected.ok()) return std::move(connected).error();
  client_ = std::move(*connected);
  return client_.get();
}

}  // namespace relops::alertmanager
