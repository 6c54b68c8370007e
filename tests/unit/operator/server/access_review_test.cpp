// The bearer-token filter (TokenReview + SubjectAccessReview), its cache, and
// the review bodies sent to the API server.
#include "operator/server/access_review.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/server/kube_access_reviewer.h"
#include "tests/support/fake_clock.h"
#include "tests/unit/operator/server/fake_access_reviewer.h"

namespace relops::server {
namespace {

using relops::testing::FakeAccessReviewer;

AccessAttributes metricsAttributes() {
  AccessAttributes attributes;
  attributes.verb = "get";
  attributes.nonResourcePath = "/metrics";
  return attributes;
}

Request withAuthorization(std::string value) {
  Request request;
  request.method = "GET";
  request.path = "/metrics";
  if (!value.empty()) request.headers["authorization"] = std::move(value);
  return request;
}

TEST(BearerToken, ParsesOnlyTheBearerScheme) {
  struct Case {
    const char* name;
    std::string header;
    std::string token;
  };
  const Case cases[] = {
      {"absent", "", ""},
      {"bearer", "Bearer abc.def", "abc.def"},
      {"scheme is case-insensitive", "bearer abc", "abc"},
      {"extra spaces trimmed", "Bearer   abc  ", "abc"},
      {"basic is not bearer", "Basic dXNlcjpwYXNz", ""},
      {"empty token", "Bearer ", ""},
      {"two tokens", "Bearer a, Bearer b", ""},
      {"no space", "Bearerabc", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(bearerToken(withAuthorization(c.header)), c.token) << c.name;
  }
}

TEST(RequireAccess, AnswersAsControllerRuntimeFilters) {
  FakeAccessReviewer reviewer;
  reviewer.addToken("reader-token", {"system:serviceaccount:mon:prometheus", "1", {}, {}});
  reviewer.addToken("tenant-token", {"system:serviceaccount:team-a:tenant", "2", {}, {}});
  reviewer.allow("system:serviceaccount:mon:prometheus", metricsAttributes());
  Handler handler = requireAccess(reviewer, metricsAttributes(),
                                  [](const Request&) { return Response::text(200, "metrics"); });
  struct Case {
    const char* name;
    std::string header;
    int status;
  };
  const Case cases[] = {
      {"no token", "", 401},
      {"not a bearer token", "Basic eDp5", 401},
      {"unknown token", "Bearer forged", 401},
      {"authenticated but not allowed", "Bearer tenant-token", 403},
      {"allowed", "Bearer reader-token", 200},
  };
  for (const Case& c : cases) {
    const Response response = handler(withAuthorization(c.header));
    EXPECT_EQ(response.status, c.status) << c.name;
    if (c.status == 401) {
      EXPECT_THAT(response.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                        "WWW-Authenticate", "Bearer")))
          << c.name;
    }
    if (c.status != 200) {
      EXPECT_EQ(response.body.find("metrics"), std::string::npos) << c.name;
    }
  }
}

TEST(RequireAccess, ReviewFailuresNeverLetARequestThrough) {
  FakeAccessReviewer reviewer;
  reviewer.addToken("reader-token", {"reader", "", {}, {}});
  reviewer.allow("reader", metricsAttributes());
  Handler handler = requireAccess(reviewer, metricsAttributes(),
                                  [](const Request&) { return Response::text(200, "metrics"); });
  reviewer.failAuthorization(true);
  EXPECT_EQ(handler(withAuthorization("Bearer reader-token")).status, 500);
  reviewer.failAuthentication(true);
  EXPECT_EQ(handler(withAuthorization("Bearer reader-token")).status, 401);
}

TEST(CachingAccessReviewer, KeepsAnswersForTheirTtlAndNeverErrors) {
  FakeAccessReviewer inner;
  testing::FakeClock clock;
  ReviewCacheOptions options;
  options.authenticatedTtl = std::chrono::seconds(120);
  options.allowedTtl = std::chrono::seconds(300);
  options.deniedTtl = std::chrono::seconds(30);
  CachingAccessReviewer cache(inner, clock, options);
  inner.addToken("t", {"reader", "", {"g"}, {}});
  inner.allow("reader", metricsAttributes());

  for (int i = 0; i < 3; ++i) {
    auto user = cache.authenticate("t");
    ASSERT_TRUE(user.ok() && user->has_value());
    auto allowed = cache.authorize(**user, metricsAttributes());
    ASSERT_TRUE(allowed.ok());
    EXPECT_TRUE(*allowed);
  }
  EXPECT_EQ(inner.authentications, 1);
  EXPECT_EQ(inner.authorizations, 1);

  // A denial is kept for a shorter time than an allowance.
  AccessAttributes other = metricsAttributes();
  other.nonResourcePath = "/debug";
  UserInfo reader{"reader", "", {"g"}, {}};
  EXPECT_FALSE(*cache.authorize(reader, other));
  clock.advance(std::chrono::seconds(31));
  EXPECT_FALSE(*cache.authorize(reader, other));
  EXPECT_EQ(inner.authorizations, 3);

  // Past the token TTL the token is reviewed again (a deleted ServiceAccount's
  // token stops working within two minutes).
  clock.advance(std::chrono::seconds(120));
  ASSERT_TRUE(cache.authenticate("t").ok());
  EXPECT_EQ(inner.authentications, 2);

  // Errors are not cached.
  inner.failAuthentication(true);
  EXPECT_FALSE(cache.authenticate("new").ok());
  inner.failAuthentication(false);
  inner.addToken("new", {"someone", "", {}, {}});
  auto later = cache.authenticate("new");
  ASSERT_TRUE(later.ok() && later->has_value());
}

TEST(CachingAccessReviewer, IsBounded) {
  FakeAccessReviewer inner;
  testing::FakeClock clock;
  ReviewCacheOptions options;
  options.maxEntries = 8;
  CachingAccessReviewer cache(inner, clock, options);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(cache.authenticate("token-" + std::to_string(i)).ok());
  EXPECT_LE(cache.size(), 8u);
  // The newest entries are the ones kept.
  const int before = inner.authentications;
  ASSERT_TRUE(cache.authenticate("token-99").ok());
  EXPECT_EQ(inner.authentications, before);
}

TEST(ReviewBodies, TokenAndSubjectAccessReviews) {
  EXPECT_EQ(tokenReview("abc"), nlohmann::json::parse(R"({
    "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "metadata": {}, "spec": {"token": "abc"}})"));
  UserInfo user{"system:serviceaccount:mon:prom",
                "u-1",
                {"system:serviceaccounts"},
                {{"authentication.kubernetes.io/pod-name", {"prom-0"}}}};
  EXPECT_EQ(subjectAccessReview(user, metricsAttributes()), nlohmann::json::parse(R"({
    "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "metadata": {},
    "spec": {"user": "system:serviceaccount:mon:prom", "uid": "u-1",
             "groups": ["system:serviceaccounts"],
             "extra": {"authentication.kubernetes.io/pod-name": ["prom-0"]},
             "nonResourceAttributes": {"path": "/metrics", "verb": "get"}}})"));
  AccessAttributes rotation;
  rotation.verb = "get";
  rotation.group = "relops.dev";
  rotation.resource = "oncallrotations";
  rotation.namespace_ = "team-a";
  rotation.name = "primary";
  EXPECT_EQ(subjectAccessReview({"alice", "", {}, {}}, rotation), nlohmann::json::parse(R"({
    "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "metadata": {},
    "spec": {"user": "alice", "groups": [],
             "resourceAttributes": {"verb": "get", "group": "relops.dev",
                                    "resource": "oncallrotations", "namespace": "team-a",
                                    "name": "primary"}}})"));
}

}  // namespace
}  // namespace relops::server
