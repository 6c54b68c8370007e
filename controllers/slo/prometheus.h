// The Prometheus HTTP API at relops's I/O boundary: instant queries only. An
// interface with one real implementation (over relops's HTTP client, so TLS,
// bearer tokens and proxies behave as for the API server) and test doubles.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "operator/base/result.h"

namespace relops::slo {

// One element of an instant vector.
struct PromSample {
  std::map<std::string, std::string> labels;
  double value = 0;
  std::chrono::system_clock::time_point time;
};

class PrometheusApi {
 public:
  virtual ~PrometheusApi() = default;
  // GET /api/v1/query. A query Prometheus rejects is kBadRequest (disposition: stall) with
  // Prometheus's own message; an unreachable Prometheus is a retryable error.
  virtual base::Result<std::vector<PromSample>> query(const std::string& expr) = 0;
  // The same, evaluated at `at` rather than now (a calendar period read at its end).
  virtual base::Result<std::vector<PromSample>> queryAt(
      const std::string& expr, std::chrono::system_clock::time_point at) = 0;
};

struct PrometheusOptions {
  std::string url;  // http://prometheus:9090, https://…/prefix
  std::string bearerTokenFile;
  std::string caFile;
  bool insecureSkipTlsVerify = false;
  // A bearer token goes over plain http:// only when this is set
  // (--prometheus-allow-http-bearer-token): anyone on the path could read and replay it.
  bool allowHttpBearerToken = false;
  std::chrono::seconds timeout{30};
};

// Fails (kConfig) when the URL or CA cannot be used, or when a bearer token would be sent
// over plain http:// without allowHttpBearerToken; it does not contact Prometheus.
base::Result<std::unique_ptr<PrometheusApi>> connectPrometheus(const PrometheusOptions& options);

// Parses an instant-query response body ({"status": "success", "data": {...}}): a
// vector or a scalar result. Exposed for tests.
base::Result<std::vector<PromSample>> parseQueryResponse(const nlohmann::json& response);

}  // namespace relops::slo
