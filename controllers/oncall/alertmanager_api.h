// Alertmanager's HTTP API v2, the part relops uses: posting alerts (the shift notices,
// notices.h). relops holds no receiver credentials; Alertmanager delivers.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "operator/base/result.h"

namespace relops::oncall {

class AlertmanagerApi {
 public:
  virtual ~AlertmanagerApi() = default;
  // POST /api/v2/alerts. Alertmanager rejecting the alerts is kBadRequest (a relops bug);
  // an unreachable one is retryable.
  virtual base::Result<void> postAlerts(const nlohmann::json& alerts) = 0;
};

struct AlertmanagerOptions {
  std::string url;  // http://alertmanager-operated.monitoring:9093, https://…/prefix
  std::string caFile;
  std::chrono::seconds timeout{10};
};

base::Result<std::unique_ptr<AlertmanagerApi>> connectAlertmanager(
    const AlertmanagerOptions& options);

}  // namespace relops::oncall
