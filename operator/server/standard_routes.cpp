#include "operator/server/standard_routes.h"

#include <algorithm>
#include <set>
#include <utility>

#include "operator/runtime/metrics.h"

namespace relops::server {

namespace {

std::string quotedList(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "\"" : ",\"") + name + "\"";
  return out;
}

}  // namespace

CheckSet::CheckSet(std::string endpoint, runtime::Logger log)
    : endpoint_(std::move(endpoint)), log_(std::move(log)) {}

void CheckSet::add(std::string name, Check check) {
  std::lock_guard lock(mutex_);
  for (NamedCheck& existing : checks_) {
    if (existing.name == name) {
      existing.check = std::move(check);
      return;
    }
  }
  checks_.push_back({std::move(name), std::move(check)});
}

Response CheckSet::serveOne(const NamedCheck& check) const {
  base::Result<void> result = check.check();
  if (result.ok()) return Response::text(200, "ok");
  log_.info(endpoint_ + " check failed",
            {{"checker", check.name}, {"error", result.error().describe()}});
  // The single-check endpoint is what a person asks for when digging in, and
  // controller-runtime shows the error there too.
  return Response::text(500, "internal server error: " + result.error().describe() + "\n");
}

Response CheckSet::serve(const Request& request) const {
  std::vector<NamedCheck> checks;
  {
    std::lock_guard lock(mutex_);
    checks = checks_;
  }
  // controller-runtime installs "ping" when nothing else is registered.
  if (checks.empty()) checks.push_back({"ping", [] { return base::Result<void>(base::Ok{}); }});

  const std::string root = "/" + endpoint_;
  if (request.path.size() > root.size() + 1) {
    const std::string name = request.path.substr(root.size() + 1);
    for (const NamedCheck& check : checks) {
      if (check.name == name) return serveOne(check);
    }
    return Response::text(404, "404 page not found\n");
  }

  std::set<std::string> excluded;
  for (const auto& [key, value] : request.queryParams()) {
    if (key == "exclude") excluded.insert(value);
  }
  bool failed = false;
  std::string listing;
  for (const NamedCheck& check : checks) {
    if (excluded.erase(check.name) > 0) {
      listing += "[+]" + check.name + " excluded: ok\n";
      continue;
    }
    base::Result<void> result = check.check();
    if (result.ok()) {
      listing += "[+]" + check.name + " ok\n";
    } else {
      failed = true;
      listing += "[-]" + check.name + " failed: reason withheld\n";
      log_.info(endpoint_ + " check failed",
                {{"checker", check.name}, {"error", result.error().describe()}});
    }
  }
  if (!excluded.empty()) {
    listing += "warn: some health checks cannot be excluded: no matches for " +
               quotedList(excluded) + "\n";
  }
  // Always verbose on failure: the listing is what a person reads in
  // `kubectl describe pod` when a probe fails.
  if (failed) return Response::text(500, listing + endpoint_ + " check failed\n");

  Response response = Response::text(200, "ok");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (request.hasQueryParam("verbose")) response.body = listing + endpoint_ + " check passed\n";
  return response;
}

Probes::Probes(runtime::Logger log) : health_("healthz", log), ready_("readyz", log) {}

void addMetricsRoute(HttpServer& server, const runtime::Registry& registry,
                     AccessReviewer* reviewer, runtime::Logger log) {
  Handler metrics = [&registry](const Request& request) {
    if (request.path != "/metrics") return Response::text(404, "404 page not found\n");
    Response response;
    response.contentType = kMetricsContentType;
    response.body = registry.exposition();
    return response;
  };
  if (reviewer != nullptr) {
    AccessAttributes attributes;
    attributes.verb = "get";
    attributes.nonResourcePath = "/metrics";
    metrics = requireAccess(*reviewer, std::move(attributes), std::move(metrics), std::move(log));
  }
  server.handle("GET", "/metrics", std::move(metrics));
}

void addProbeRoutes(HttpServer& server, const Probes& probes) {
  server.handle("GET", "/healthz",
                [&probes](const Request& request) { return probes.healthz(request); });
  server.handle("GET", "/readyz",
                [&probes](const Request& request) { return probes.readyz(request); });
}

}  // namespace relops::server
