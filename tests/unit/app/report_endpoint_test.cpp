// The operator's /reports/ route (app/report_endpoint.h) on the in-memory context and a review
// double: who gets which report, what is left out, and the bounds. That the API server's
// TokenReview and SubjectAccessReview answer as assumed is e2e.report_endpoint's.
#include "app/report_endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/report/report.h"
#include "operator/server/http_server.h"
#include "tests/support/bearer_request.h"
#include "tests/support/fake_context.h"
#include "tests/unit/operator/server/fake_access_reviewer.h"

namespace relops::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

kube::ResourceRef relopsKind(const char* plural, const char* kind) {
  return {"relops.dev", "v1alpha1", plural, kind, true};
}
const kube::ResourceRef kSlos = relopsKind("servicelevelobjectives", "ServiceLevelObjective");
const kube::ResourceRef kDrills = relopsKind("drdrills", "DRDrill");

server::AccessAttributes list(const kube::ResourceRef& resource, const std::string& ns) {
  server::AccessAttributes attributes;
  attributes.verb = "list";
  attributes.namespace_ = ns;
  attributes.group = resource.group;
  attributes.resource = resource.resource;
  return attributes;
}

json object(const kube::ResourceRef& resource, const std::string& ns, const std::string& name) {
  return {{"apiVersion", "relops.dev/v1alpha1"},
          {"kind", resource.kind},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"service", name}, {"objective", "99.9"}, {"window", "28d"}}}};
}

class ReportEndpoint : public ::testing::Test {
 protected:
  ReportEndpoint() : context_(std::chrono::sys_days(std::chrono::December / 7 / 2026)) {
    server::ServerOptions options;
    options.bindAddress = "0";
    server_ = std::make_unique<server::HttpServer>(options);
    addReportRoutes(*server_, context_, reviewer_, runtime::discardLogger());
    context_.fakeClient.add(kSlos, object(kSlos, "team-a", "checkout"));
    context_.fakeClient.add(kSlos, object(kSlos, "team-b", "billing"));
    context_.fakeClient.add(kDrills, object(kDrills, "team-a", "db-restore"));
    reviewer_.addToken("viewer-token", {"viewer", "", {}, {}});
    for (const char* plural : {"servicelevelobjectives", "errorbudgetpolicies", "oncallrotations",
                               "drdrills", "drdrillruns", "changewindows"}) {
      reviewer_.allow("viewer", list(relopsKind(plural, ""), "team-a"));
    }
  }

  server::Response get(const std::string& target, const std::string& token = "viewer-token") {
    return server_->dispatch(testing::bearerRequest(target, token));
  }

  testing::FakeContext context_;
  testing::FakeAccessReviewer reviewer_;
  std::unique_ptr<server::HttpServer> server_;
};

TEST_F(ReportEndpoint, ANamespaceReportForWhoMayListItsSlos) {
  const server::Response response = get("/reports/team-a?format=json&period=2026-11");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.contentType, "application/json");
  const json report = json::parse(response.body);
  EXPECT_EQ(report["scope"], "namespace team-a");
  EXPECT_EQ(report["period"]["label"], "2026-11");
  ASSERT_EQ(report["slos"].size(), 1u);
  EXPECT_EQ(report["slos"][0]["name"], "checkout");
  EXPECT_EQ(report["drills"][0]["name"], "db-restore");
  EXPECT_EQ(report["notes"], json::array());
}

TEST_F(ReportEndpoint, OtherNamespacesAndTheClusterAreForbidden) {
  for (const char* target : {"/reports/team-b", "/reports/", "/reports/?format=json"}) {
    const server::Response response = get(target);
    EXPECT_EQ(response.status, 403) << target;
    EXPECT_THAT(response.body, Not(HasSubstr("billing")));
  }
}

TEST_F(ReportEndpoint, NoValidTokenIsUnauthorized) {
  EXPECT_EQ(get("/reports/team-a", "").status, 401);
  EXPECT_EQ(get("/reports/team-a", "made-up").status, 401);
  EXPECT_EQ(get("/reports/", "").status, 401);
}

TEST_F(ReportEndpoint, AReviewThatCannotBeMadeIsAnError) {
  reviewer_.failAuthorization(true);
  EXPECT_EQ(get("/reports/team-a").status, 500);
}

TEST_F(ReportEndpoint, KindsTheCallerMayNotListAreLeftOut) {
  reviewer_.addToken("slo-reader-token", {"slo-reader", "", {}, {}});
  reviewer_.allow("slo-reader", list(kSlos, "team-a"));
  const server::Response response = get("/reports/team-a?format=json", "slo-reader-token");
  ASSERT_EQ(response.status, 200) << response.body;
  const json report = json::parse(response.body);
  EXPECT_EQ(report["slos"].size(), 1u);
  EXPECT_EQ(report["drills"], json::array());  // the drill exists, but not for this caller
  EXPECT_THAT(report["notes"].dump(), HasSubstr("DRDrill objects are left out"));
}

TEST_F(ReportEndpoint, ClusterWideReaderGetsEveryNamespace) {
  reviewer_.addToken("auditor-token", {"auditor", "", {}, {}});
  for (const char* plural : {"servicelevelobjectives", "errorbudgetpolicies", "oncallrotations",
                             "drdrills", "drdrillruns", "changewindows"}) {
    reviewer_.allow("auditor", list(relopsKind(plural, ""), ""));
  }
  const server::Response response = get("/reports/?format=md", "auditor-token");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.contentType, "text/markdown; charset=utf-8");
  EXPECT_THAT(response.body, HasSubstr("checkout"));
  EXPECT_THAT(response.body, HasSubstr("billing"));
}

TEST_F(ReportEndpoint, HtmlLoadsNothing) {
  const server::Response response = get("/reports/team-a");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.contentType, "text/html; charset=utf-8");
  bool policy = false;
  for (const auto& [name, value] : response.headers) {
    policy =
        policy || (name == "Content-Security-Policy" && value.starts_with("default-src 'none'"));
  }
  EXPECT_TRUE(policy);
  EXPECT_THAT(response.body, HasSubstr("Reliability report 2026-12"));  // the month so far
}

TEST_F(ReportEndpoint, BadRequests) {
  EXPECT_EQ(get("/reports/team-a?period=last-month").status, 400);
  EXPECT_EQ(get("/reports/team-a?period=2026-11&from=2026-11-01").status, 400);
  EXPECT_EQ(get("/reports/team-a?from=2026-11-01").status, 400);
  EXPECT_EQ(get("/reports/team-a?format=pdf").status, 400);
  EXPECT_EQ(get("/reports/Team_A").status, 404);
  EXPECT_EQ(get("/reports/team-a/more").status, 404);
}

TEST_F(ReportEndpoint, MoreObjectsThanAReportReadsAreRefused) {
  for (size_t i = 0; i <= report::kMaxObjectsPerKind; ++i) {
    context_.fakeClient.add(kSlos, object(kSlos, "team-a", "slo-" + std::to_string(i)));
  }
  const server::Response response = get("/reports/team-a");
  EXPECT_EQ(response.status, 413);
  EXPECT_THAT(response.body, HasSubstr("more than 1000 ServiceLevelObjective objects"));
}

}  // namespace
}  // namespace relops::app
