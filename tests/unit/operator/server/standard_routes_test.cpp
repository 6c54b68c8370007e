// /metrics, /healthz and /readyz over real HTTP.
#include "operator/server/standard_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "operator/runtime/metrics.h"
#include "tests/unit/operator/server/http_test_client.h"

namespace relops::server {
namespace {

using relops::testing::httpRequest;
using ::testing::HasSubstr;

base::Result<void> ok() { return base::Ok{}; }
base::Result<void> failing() {
  return base::Error(base::ErrorKind::kTransient, "informer for slos not synced");
}

class StandardRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.bindAddress = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(options);
    addMetricsRoute(*server_, registry_);
    addProbeRoutes(*server_, probes_);
    ASSERT_TRUE(server_->start().ok());
  }
  relops::testing::HttpReply get(const std::string& target) {
    return httpRequest(server_->port(), "GET", target);
  }

  runtime::Registry registry_{runtime::Registry::ProcessMetrics::kExclude};
  Probes probes_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(StandardRoutesTest, MetricsServesTheRegistryInTextFormat) {
  registry_.counter("relops_test_total", "A test counter.", {"kind"}).with({"a"}).inc(3);
  auto reply = get("/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(reply.body, HasSubstr("# TYPE relops_test_total counter"));
  EXPECT_THAT(reply.body, HasSubstr("relops_test_total{kind=\"a\"} 3"));
  EXPECT_EQ(get("/metrics/x").status, 404);
}

TEST_F(StandardRoutesTest, NoChecksMeansPing) {
  auto reply = get("/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok");
  EXPECT_EQ(get("/readyz?verbose").body, "[+]ping ok\nreadyz check passed\n");
}

TEST_F(StandardRoutesTest, HealthyChecksAnswerOk) {
  probes_.addHealthCheck("ping", ok);
  probes_.addHealthCheck("leaderElection", ok);
  auto reply = get("/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok");
  EXPECT_EQ(reply.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(reply.headers["x-content-type-options"], "nosniff");
}

TEST_F(StandardRoutesTest, VerboseListsEachCheckLikeTheApiServer) {
  probes_.addReadyCheck("informers", ok);
  probes_.addReadyCheck("leader", ok);
  auto reply = get("/readyz?verbose");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "[+]informers ok\n[+]leader ok\nreadyz check passed\n");
}

TEST_F(StandardRoutesTest, FailedCheckIs500WithListingAndWithheldReason) {
  probes_.addReadyCheck("informers", failing);
  probes_.addReadyCheck("leader", ok);
  auto reply = get("/readyz");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body,
            "[-]informers failed: reason withheld\n[+]leader ok\nreadyz check failed\n");
  // Liveness is a separate set of checks.
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(StandardRoutesTest, ExcludeSkipsACheck) {
  probes_.addReadyCheck("informers", failing);
  probes_.addReadyCheck("leader", ok);
  auto reply = get("/readyz?exclude=informers&verbose");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "[+]informers excluded: ok\n[+]leader ok\nreadyz check passed\n");
  auto unknown = get("/readyz?exclude=nope&verbose");
  EXPECT_EQ(unknown.status, 500);
  EXPECT_THAT(unknown.body,
              HasSubstr("warn: some health checks cannot be excluded: no matches for \"nope\"\n"));
}

TEST_F(StandardRoutesTest, SingleCheckEndpoint) {
  probes_.addHealthCheck("ping", ok);
  probes_.addHealthCheck("cache", failing);
  EXPECT_EQ(get("/healthz/ping").status, 200);
  EXPECT_EQ(get("/healthz/ping").body, "ok");
  auto failed = get("/healthz/cache");
  EXPECT_EQ(failed.status, 500);
  EXPECT_THAT(failed.body, HasSubstr("informer for slos not synced"));
  EXPECT_EQ(get("/healthz/unknown").status, 404);
}

TEST_F(StandardRoutesTest, ChecksAreLiveAndReplaceable) {
  std::atomic<bool> synced{false};
  probes_.addReadyCheck("informers", [&]() -> base::Result<void> {
    if (synced) return base::Ok{};
    return base::Error(base::ErrorKind::kTransient, "not synced");
  });
  EXPECT_EQ(get("/readyz").status, 500);
  synced = true;
  EXPECT_EQ(get("/readyz").status, 200);
  probes_.addReadyCheck("informers", failing);  // same name: replaced, not added
  EXPECT_EQ(get("/readyz?verbose").body,
            "[-]informers failed: reason withheld\nreadyz check failed\n");
}

TEST_F(StandardRoutesTest, ProbesRejectOtherMethods) {
  EXPECT_EQ(httpRequest(server_->port(), "POST", "/healthz", "x").status, 405);
  EXPECT_EQ(httpRequest(server_->port(), "HEAD", "/healthz").status, 200);
}

}  // namespace
}  // namespace relops::server
