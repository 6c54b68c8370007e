// Alertmanager's HTTP API v2, the part relops uses: posting alerts (the on-call shift notices)
// and the silences of maintenance windows (SLOs). relops holds no receiver credentials;
// Alertmanager delivers and enforces.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "operator/base/result.h"

namespace relops::alertmanager {

struct SilenceMatcher {
  std::string name;
  std::string value;
  bool isRegex = false;
  bool isEqual = true;
  friend bool operator==(const SilenceMatcher&, const SilenceMatcher&) = default;
};

// A silence as API v2 shows it (gettableSilence) or takes it (postableSilence; an empty id
// creates one).
struct Silence {
  std::string id;
  std::vector<SilenceMatcher> matchers;
  std::chrono::sys_seconds startsAt;
  std::chrono::sys_seconds endsAt;
  std::string createdBy;
  std::string comment;
  std::string state;  // active, pending, expired (read only)
};

class AlertmanagerApi {
 public:
  virtual ~AlertmanagerApi() = default;
  // POST /api/v2/alerts. Alertmanager rejecting the alerts is kBadRequest (a relops bug);
  // an unreachable one is retryable.
  virtual base::Result<void> postAlerts(const nlohmann::json& alerts) = 0;
  // GET /api/v2/silences?filter=…: the silences whose equality matchers include every one of
  // `filter` (Alertmanager filters by them), at most `limit` of them.
  virtual base::Result<std::vector<Silence>> listSilences(const std::vector<SilenceMatcher>& filter,
                                                          size_t limit) = 0;
  // POST /api/v2/silences; the new silence's id.
  virtual base::Result<std::string> createSilence(const Silence& silence) = 0;
  // DELETE /api/v2/silence/{id}: expires it now (an unknown id is not an error).
  virtual base::Result<void> expireSilence(const std::string& id) = 0;
};

struct AlertmanagerOptions {
  std::string url;  // http://alertmanager-operated.monitoring:9093, https://…/prefix
  std::string caFile;
  std::chrono::seconds timeout{10};
};

base::Result<std::unique_ptr<AlertmanagerApi>> connectAlertmanager(
    const AlertmanagerOptions& options);

// The JSON of API v2, exposed for tests.
nlohmann::json silenceJson(const Silence& silence);
base::Result<Silence> parseSilence(const nlohmann::json& value);

}  // namespace relops::alertmanager
