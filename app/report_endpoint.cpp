#include "app/report_endpoint.h"

#include <chrono>

#include "app/kube_names.h"
#include "app/report/report.h"
#include "operator/runtime/context.h"
#include "operator/server/access_review.h"
#include "operator/server/http_server.h"

namespace relops::app {
namespace {

using nlohmann::json;

struct Kind {
  kube::ResourceRef resource;
  std::vector<json> report::ReportInput::*into;
};

const Kind kKinds[] = {
    {{"relops.dev", "v1alpha1", "servicelevelobjectives", "ServiceLevelObjective", true},
     &report::ReportInput::slos},
    {{"relops.dev", "v1alpha1", "errorbudgetpolicies", "ErrorBudgetPolicy", true},
     &report::ReportInput::policies},
    {{"relops.dev", "v1alpha1", "oncallrotations", "OnCallRotation", true},
     &report::ReportInput::rotations},
    {{"relops.dev", "v1alpha1", "drdrills", "DRDrill", true}, &report::ReportInput::drills},
    {{"relops.dev", "v1alpha1", "drdrillruns", "DRDrillRun", true}, &report::ReportInput::runs},
    {{"relops.dev", "v1alpha1", "changewindows", "ChangeWindow", true},
     &report::ReportInput::windows},
};

base::Result<report::Period> period(const server::Request& request, report::TimePoint now) {
  const auto named = request.queryParam("period");
  const auto from = request.queryParam("from");
  const auto to = request.queryParam("to");
  if (named) {
    if (from || to) return base::Error(base::ErrorKind::kConfig, "period excludes from and to");
    return report::parsePeriod(*named);
  }
  if (from.has_value() != to.has_value()) {
    return base::Error(base::ErrorKind::kConfig, "from and to go together");
  }
  if (!from) return report::monthContaining(now);
  auto start = report::parseBound(*from, "from");
  if (!start) return std::move(start).error();
  auto end = report::parseBound(*to, "to");
  if (!end) return std::move(end).error();
  return report::periodBetween(*start, *end);
}

class ReportHandler {
 public:
  ReportHandler(runtime::Context& caches, server::AccessReviewer& reviewer, runtime::Logger log)
      : caches_(caches), reviewer_(reviewer), log_(std::move(log)) {}

  server::Response operator()(const server::Request& request) const {
    if (request.method != "GET" && request.method != "HEAD") {
      return server::Response::text(405, "method not allowed\n");
    }
    const std::string rest = request.path.substr(std::string_view("/reports/").size());
    const bool all = rest.empty();
    if (!all && !isDnsLabel(rest)) return server::Response::text(404, "404 page not found\n");
    const std::string namespace_ = all ? "" : rest;

    // The SLOs decide who may see the report at all: 401 / 403 / 500 as for /metrics.
    if (const auto decision = review(request, kKinds[0].resource, namespace_);
        decision != server::AccessDecision::kAllowed) {
      return server::accessRefusal(decision);
    }
    const report::TimePoint now = std::chrono::floor<std::chrono::seconds>(caches_.clock().now());
    auto chosen = period(request, now);
    if (!chosen) return server::Response::text(400, chosen.error().message() + "\n");
    const std::string format = request.queryParam("format").value_or("html");
    if (format != "html" && format != "md" && format != "json") {
      return server::Response::text(400, "format: want html, md or json\n");
    }

    report::ReportInput input;
    input.scope = all ? "all namespaces" : "namespace " + namespace_;
    input.period = *chosen;
    input.now = now;
    std::vector<std::string> left;
    for (const Kind& kind : kKinds) {
      if (&kind != &kKinds[0] &&
          review(request, kind.resource, namespace_) != server::AccessDecision::kAllowed) {
        left.push_back(kind.resource.kind);  // never widen what the caller may list
        continue;
      }
      const std::vector<runtime::ObjectPtr> cached = caches_.cachedList(kind.resource, namespace_);
      if (cached.size() > report::kMaxObjectsPerKind) {
        return server::Response::text(
            413, "more than " + std::to_string(report::kMaxObjectsPerKind) + " " +
                     kind.resource.kind + " objects selected; ask for one namespace\n");
      }
      std::vector<json>& into = input.*kind.into;
      into.reserve(cached.size());
      for (const runtime::ObjectPtr& object : cached) into.push_back(*object);
    }
    report::Report built = report::buildReport(input);
    for (const std::string& kind : left) {
      built.notes.push_back(kind + " objects are left out: the caller may not list them");
    }
    server::Response response;
    response.headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
    if (format == "json") {
      response.contentType = "application/json";
      response.body = report::renderJson(built).dump(2) + "\n";
    } else if (format == "md") {
      response.contentType = "text/markdown; charset=utf-8";
      response.body = report::renderMarkdown(built);
    } else {
      response.contentType = "text/html; charset=utf-8";
      // The page loads nothing; the browser is told so too.
      response.headers.emplace_back("Content-Security-Policy",
                                    "default-src 'none'; style-src 'unsafe-inline'");
      response.body = report::renderHtml(built);
    }
    return response;
  }

 private:
  server::AccessDecision review(const server::Request& request, const kube::ResourceRef& resource,
                                const std::string& namespace_) const {
    server::AccessAttributes attributes;
    attributes.verb = "list";
    attributes.namespace_ = namespace_;
    attributes.group = resource.group;
    attributes.resource = resource.resource;
    return server::reviewRequest(request, reviewer_, attributes, log_);
  }

  runtime::Context& caches_;
  server::AccessReviewer& reviewer_;
  runtime::Logger log_;
};

}  // namespace

void addReportRoutes(server::HttpServer& server, runtime::Context& caches,
                     server::AccessReviewer& reviewer, runtime::Logger log) {
  server.handle("GET", "/reports/", ReportHandler(caches, reviewer, std::move(log)));
}

}  // namespace relops::app
