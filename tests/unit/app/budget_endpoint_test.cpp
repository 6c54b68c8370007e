// The operator's /budget/ route (app/budget_endpoint.h) on the in-memory context and a review
// double: the budget as JSON, the ?min= gate's 200 / 412 and its reason, who is refused, and
// the bounds. That the API server's reviews answer as assumed is e2e.budget_gate's.
#include "app/budget_endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/server/http_server.h"
#include "tests/support/bearer_request.h"
#include "tests/support/fake_context.h"
#include "tests/unit/operator/server/fake_access_reviewer.h"

namespace relops::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const kube::ResourceRef kSlos{"relops.dev", "v1alpha1", "servicelevelobjectives",
                              "ServiceLevelObjective", true};

server::AccessAttributes getSlo(const std::string& ns, const std::string& name) {
  server::AccessAttributes attributes;
  attributes.verb = "get";
  attributes.namespace_ = ns;
  attributes.group = "relops.dev";
  attributes.resource = "servicelevelobjectives";
  attributes.name = name;
  return attributes;
}

json slo(const std::string& ns, const std::string& name, const json& status) {
  json object = {{"apiVersion", "relops.dev/v1alpha1"},
                 {"kind", "ServiceLevelObjective"},
                 {"metadata", {{"name", name}, {"namespace", ns}}},
                 {"spec", {{"service", name}, {"objective", "99.9"}, {"window", "28d"}}}};
  if (!status.is_null()) object["status"] = status;
  return object;
}

json statusWithBudget(const std::string& remaining, const std::string& consumed) {
  return {{"sli", "99.9875"},
          {"errorBudget", {{"remaining", remaining}, {"consumed", consumed}}},
          {"evaluationTime", "2026-12-07T09:00:00Z"},
          {"conditions", json::array({{{"type", "Ready"},
                                       {"status", "True"},
                                       {"reason", "Evaluated"},
                                       {"message", ""},
                                       {"lastTransitionTime", "2026-12-07T08:00:00Z"}}})}};
}

class BudgetEndpoint : public ::testing::Test {
 protected:
  BudgetEndpoint() {
    server::ServerOptions options;
    options.bindAddress = "0";
    server_ = std::make_unique<server::HttpServer>(options);
    addBudgetRoutes(*server_, context_, reviewer_, runtime::discardLogger());
    context_.fakeClient.add(kSlos, slo("shop", "checkout", statusWithBudget("12.5", "87.5")));
    context_.fakeClient.add(kSlos, slo("shop", "cart", statusWithBudget("80", "20")));
    context_.fakeClient.add(kSlos, slo("shop", "new", nullptr));
    context_.fakeClient.add(kSlos, slo("billing", "invoices", statusWithBudget("90", "10")));
    reviewer_.addToken("gate-token", {"gate", "", {}, {}});
    for (const char* name : {"checkout", "cart", "new", "absent"}) {
      reviewer_.allow("gate", getSlo("shop", name));
    }
  }

  server::Response get(const std::string& target, const std::string& token = "gate-token",
                       const std::string& method = "GET") {
    return server_->dispatch(testing::bearerRequest(target, token, method));
  }

  testing::FakeContext context_;
  testing::FakeAccessReviewer reviewer_;
  std::unique_ptr<server::HttpServer> server_;
};

TEST_F(BudgetEndpoint, TheBudgetAsJson) {
  const server::Response response = get("/budget/shop/checkout");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.contentType, "application/json");
  EXPECT_EQ(json::parse(response.body), json({{"namespace", "shop"},
                                              {"name", "checkout"},
                                              {"objective", "99.9"},
                                              {"window", "28d"},
                                              {"sli", "99.9875"},
                                              {"remainingPercent", 12.5},
                                              {"consumed", 87.5},
                                              {"evaluationTime", "2026-12-07T09:00:00Z"},
                                              {"ready", true}}));
}

TEST_F(BudgetEndpoint, BelowTheGateIs412WithTheReason) {
  const server::Response response = get("/budget/shop/checkout?min=20");
  EXPECT_EQ(response.status, 412);
  const json body = json::parse(response.body);
  EXPECT_EQ(body["pass"], false);
  EXPECT_EQ(body["min"], 20.0);
  EXPECT_EQ(body["reason"],
            "error budget of shop/checkout is 12.5% of its budget, below the 20% this gate "
            "requires");
}

TEST_F(BudgetEndpoint, AtOrAboveTheGateIs200) {
  for (const char* target : {"/budget/shop/cart?min=20", "/budget/shop/cart?min=80",
                             "/budget/shop/checkout?min=12.5", "/budget/shop/cart?min=0"}) {
    const server::Response response = get(target);
    EXPECT_EQ(response.status, 200) << target;
    EXPECT_EQ(json::parse(response.body)["pass"], true) << target;
  }
  EXPECT_THAT(json::parse(get("/budget/shop/cart?min=20").body)["reason"].get<std::string>(),
              HasSubstr("is 80% of its budget, at or above the 20% this gate requires"));
  EXPECT_EQ(get("/budget/shop/cart?min=80.5").status, 412);
}

TEST_F(BudgetEndpoint, NoDataFailsTheGate) {
  const server::Response plain = get("/budget/shop/new");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(json::parse(plain.body)["remainingPercent"], nullptr);
  EXPECT_EQ(json::parse(plain.body)["ready"], false);
  const server::Response gated = get("/budget/shop/new?min=0");
  EXPECT_EQ(gated.status, 412);
  EXPECT_THAT(json::parse(gated.body)["reason"].get<std::string>(),
              HasSubstr("error budget of shop/new is not known yet (no data)"));
}

TEST_F(BudgetEndpoint, AnOverspentBudgetIsNegative) {
  context_.fakeClient.add(kSlos, slo("shop", "absent", statusWithBudget("-40", "140")));
  const server::Response response = get("/budget/shop/absent?min=0");
  EXPECT_EQ(response.status, 412);
  EXPECT_EQ(json::parse(response.body)["remainingPercent"], -40.0);
}

TEST_F(BudgetEndpoint, NoValidTokenIsUnauthorized) {
  EXPECT_EQ(get("/budget/shop/checkout", "").status, 401);
  EXPECT_EQ(get("/budget/shop/checkout", "made-up").status, 401);
}

TEST_F(BudgetEndpoint, WithoutGetOnThatSloItIsForbidden) {
  // Another namespace, and another SLO of the same namespace: the review names the object.
  reviewer_.allow("gate", getSlo("shop", "other"));
  for (const char* target : {"/budget/billing/invoices", "/budget/billing/invoices?min=1"}) {
    const server::Response response = get(target);
    EXPECT_EQ(response.status, 403) << target;
    EXPECT_THAT(response.body, ::testing::Not(HasSubstr("90")));
  }
  context_.fakeClient.add(kSlos, slo("shop", "search", statusWithBudget("50", "50")));
  EXPECT_EQ(get("/budget/shop/search").status, 403);
}

TEST_F(BudgetEndpoint, ExistenceIsToldOnlyAfterAuthorization) {
  EXPECT_EQ(get("/budget/shop/absent").status, 404);                // allowed, not there
  EXPECT_EQ(get("/budget/billing/absent").status, 403);             // not allowed: no hint
  EXPECT_EQ(get("/budget/billing/absent", "made-up").status, 401);  // not even authenticated
}

TEST_F(BudgetEndpoint, AReviewThatCannotBeMadeIsAnError) {
  reviewer_.failAuthorization(true);
  EXPECT_EQ(get("/budget/shop/checkout").status, 500);
}

TEST_F(BudgetEndpoint, BadRequests) {
  for (const char* min : {"abc", "-5", "101", "1e2", "", "20%", "12345678901234567"}) {
    EXPECT_EQ(get(std::string("/budget/shop/checkout?min=") + min).status, 400) << min;
  }
  for (const char* target :
       {"/budget/shop", "/budget/shop/", "/budget/Shop/checkout", "/budget/shop/check_out",
        "/budget/shop/checkout/more", "/budget//checkout", "/budget/"}) {
    EXPECT_EQ(get(target).status, 404) << target;
  }
  EXPECT_EQ(get("/budget/shop/" + std::string(254, 'a')).status, 404);
  EXPECT_EQ(get("/budget/shop/checkout", "gate-token", "POST").status, 405);
}

}  // namespace
}  // namespace relops::app
