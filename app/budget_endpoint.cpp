#include "app/budget_endpoint.h"

#include <optional>
#include <string>

#include "app/kube_names.h"
#include "controllers/common/conditions.h"
#include "controllers/common/slo_status.h"
#include "controllers/common/units.h"
#include "operator/runtime/context.h"
#include "operator/server/access_review.h"
#include "operator/server/http_server.h"

namespace relops::app {
namespace {

using nlohmann::json;

const kube::ResourceRef kSlos = common::serviceLevelObjectives<kube::ResourceRef>();
constexpr std::string_view kPrefix = "/budget/";

// `?min=`: a percent from 0 to 100 as the CRDs write them ("20", "12.5"). Anything else is a
// 400, never a gate that passes.
std::optional<double> parseMin(const std::string& text) {
  if (text.size() > 16) return std::nullopt;
  auto parsed = common::Percent::parse(text, "min");
  if (!parsed || parsed->micros() < 0 || parsed->micros() > 100'000'000) return std::nullopt;
  return parsed->value();
}

// Whether the raw query names `min` at all: a value that does not decode ("min=20%") is dropped
// by queryParam, and a gate must not then answer as if it had not been asked.
bool asksForMin(std::string_view query) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    if (part.substr(0, part.find('=')) == "min") return true;
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return false;
}

std::optional<double> percentOf(const std::string& text) {
  auto parsed = common::Percent::parse(text, "consumed");
  return parsed ? std::optional<double>(parsed->value()) : std::nullopt;
}

json orNull(const std::optional<std::string>& text) { return text ? json(*text) : json(nullptr); }
json orNull(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

std::string specString(const json& slo, const char* field) {
  const auto spec = slo.find("spec");
  if (spec == slo.end() || !spec->is_object()) return "";
  const auto value = spec->find(field);
  return value != spec->end() && value->is_string() ? value->get<std::string>() : "";
}

// The answer for one SLO as the cache holds it; `min` makes it a gate.
server::Response answer(const std::string& namespace_, const std::string& name, const json& slo,
                        std::optional<double> min) {
  common::SloStatus status;
  const auto statusJson = slo.find("status");
  if (statusJson != slo.end() && statusJson->is_object()) {
    auto parsed = common::parseSloStatus(*statusJson);
    if (parsed.ok()) status = std::move(*parsed);  // a status that does not read has no data
  }
  const std::optional<double> remaining = status.budgetRemainingPercent();
  const std::optional<double> consumed =
      status.errorBudget ? percentOf(status.errorBudget->consumed) : std::nullopt;
  const bool ready = statusJson != slo.end() && statusJson->is_object() &&
                     common::isTrue(statusJson->value("conditions", json::array()), "Ready");

  json body = {{"namespace", namespace_},
               {"name", name},
               {"objective", specString(slo, "objective")},
               {"window", specString(slo, "window")},
               {"sli", orNull(status.sli)},
               {"remainingPercent", orNull(remaining)},
               {"consumed", orNull(consumed)},
               {"evaluationTime", orNull(status.evaluationTime)},
               {"ready", ready}};
  int code = 200;
  if (min) {
    const std::string slo_ = namespace_ + "/" + name;
    const std::string required = common::formatDecimal(*min, 6) + "%";
    std::string reason;
    bool pass = false;
    if (!remaining) {
      reason = "error budget of " + slo_ + " is not known yet (no data), and this gate requires " +
               required;
    } else {
      pass = *remaining >= *min;
      reason = "error budget of " + slo_ + " is " + status.errorBudget->remaining +
               "% of its budget, " + (pass ? "at or above" : "below") + " the " + required +
               " this gate requires";
    }
    body["min"] = *min;
    body["pass"] = pass;
    body["reason"] = reason;
    // Flagger's webhooks pass on 2xx and fail otherwise; 412: the precondition is not met.
    code = pass ? 200 : 412;
  }
  server::Response response;
  response.status = code;
  response.contentType = "application/json";
  response.headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
  response.body = body.dump() + "\n";
  return response;
}

class BudgetHandler {
 public:
  BudgetHandler(runtime::Context& caches, server::AccessReviewer& reviewer, runtime::Logger log)
      : caches_(caches), reviewer_(reviewer), log_(std::move(log)) {}

  server::Response operator()(const server::Request& request) const {
    if (request.method != "GET" && request.method != "HEAD") {
      return server::Response::text(405, "method not allowed\n");
    }
    // <namespace>/<name>, both valid names, so nothing else reaches the cache or a review.
    const std::string_view rest = std::string_view(request.path).substr(kPrefix.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos || !isDnsLabel(rest.substr(0, slash)) ||
        !isDnsSubdomain(rest.substr(slash + 1))) {
      return server::Response::text(404, "404 page not found\n");
    }
    const std::string namespace_(rest.substr(0, slash));
    const std::string name(rest.substr(slash + 1));

    server::AccessAttributes attributes;
    attributes.verb = "get";
    attributes.namespace_ = namespace_;
    attributes.group = kSlos.group;
    attributes.resource = kSlos.resource;
    attributes.name = name;
    if (const auto decision = server::reviewRequest(request, reviewer_, attributes, log_);
        decision != server::AccessDecision::kAllowed) {
      return server::accessRefusal(decision);
    }
    std::optional<double> min;
    const auto text = request.queryParam("min");
    if (text || asksForMin(request.query)) {
      if (text) min = parseMin(*text);
      if (!min) return server::Response::text(400, "min: want a percent from 0 to 100\n");
    }
    const runtime::ObjectPtr slo = caches_.cached(kSlos, kube::ObjectKey{namespace_, name});
    if (!slo) {
      return server::Response::text(
          404, "servicelevelobjective " + namespace_ + "/" + name + " not found\n");
    }
    return answer(namespace_, name, *slo, min);
  }

 private:
  runtime::Context& caches_;
  server::AccessReviewer& reviewer_;
  runtime::Logger log_;
};

}  // namespace

void addBudgetRoutes(server::HttpServer& server, runtime::Context& caches,
                     server::AccessReviewer& reviewer, runtime::Logger log) {
  server.handle("GET", std::string(kPrefix), BudgetHandler(caches, reviewer, std::move(log)));
}

}  // namespace relops::app
