// The routes every relops process serves: /metrics from the metrics Registry,
// and /healthz and /readyz driven by named checks, answering the way the
// Kubernetes API server and controller-runtime's healthz package do:
//   200 "ok"; with ?verbose one line per check ("[+]informers ok"), then
//   "healthz check passed"; on failure 500 with the verbose listing
//   ("[-]leader failed: reason withheld") and "healthz check failed".
//   ?exclude=<name> skips a check, /healthz/<name> runs one check alone.
// Reasons are withheld from the public endpoint and logged instead.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "operator/base/result.h"
#include "operator/runtime/log.h"
#include "operator/server/access_review.h"
#include "operator/server/http_server.h"

namespace relops::runtime {
class Registry;
}

namespace relops::server {

// A check: ok, or an error saying what is wrong (logged, never served).
using Check = std::function<base::Result<void>()>;

// One endpoint's named checks ("healthz" or "readyz"). Thread-safe; checks
// may be added while the server runs (a controller registering its cache).
class CheckSet {
 public:
  CheckSet(std::string endpoint, runtime::Logger log);
  // Adds a check; a check of the same name is replaced.
  void add(std::string name, Check check);
  Response serve(const Request& request) const;

 private:
  struct NamedCheck {
    std::string name;
    Check check;
  };
  Response serveOne(const NamedCheck& check) const;

  std::string endpoint_;
  runtime::Logger log_;
  mutable std::mutex mutex_;
  std::vector<NamedCheck> checks_;  // in registration order, as controller-runtime lists them
};

// The liveness and readiness checks of the process.
class Probes {
 public:
  explicit Probes(runtime::Logger log = runtime::discardLogger());
  // /healthz: is the process alive (a failing check makes the kubelet restart it).
  void addHealthCheck(std::string name, Check check) {
    health_.add(std::move(name), std::move(check));
  }
  // /readyz: should it receive traffic / count as ready (caches synced, ...).
  void addReadyCheck(std::string name, Check check) {
    ready_.add(std::move(name), std::move(check));
  }

  Response healthz(const Request& request) const { return health_.serve(request); }
  Response readyz(const Request& request) const { return ready_.serve(request); }

 private:
  CheckSet health_;
  CheckSet ready_;
};

// Content type of the Prometheus text format 0.0.4.
inline constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// GET /metrics: the registry's exposition. With a reviewer, only for a bearer
// token whose user may `get` the non-resource URL /metrics (kubebuilder's
// --metrics-secure; the chart's relops-metrics-reader ClusterRole grants it).
// The registry and the reviewer must outlive the server.
void addMetricsRoute(HttpServer& server, const runtime::Registry& registry,
                     AccessReviewer* reviewer = nullptr,
                     runtime::Logger log = runtime::discardLogger());
// GET /healthz[/<name>] and /readyz[/<name>]. The probes must outlive the server.
void addProbeRoutes(HttpServer& server, const Probes& probes);

}  // namespace relops::server
