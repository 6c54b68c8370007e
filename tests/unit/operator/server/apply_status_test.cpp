// runtime::applyStatus: the status write every reconciler makes, against the FakeClient.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/runtime/controller.h"
#include "tests/support/fake_client.h"

namespace relops::runtime {
namespace {

using nlohmann::json;
using relops::testing::FakeClient;

const kube::ResourceRef kRuns{"relops.dev", "v1alpha1", "drdrillruns", "DRDrillRun", true};

TEST(ApplyStatus, WritesTheStatus) {
  FakeClient client;
  client.add(kRuns, {{"metadata", {{"namespace", "dr"}, {"name", "run-1"}}}});
  EXPECT_FALSE(applyStatus(client, kRuns, {"dr", "run-1"}, {{"phase", "Running"}}));
  EXPECT_EQ((*client.object(kRuns, {"dr", "run-1"}))["status"]["phase"], "Running");
}

TEST(ApplyStatus, AWriteFromAStaleVersionIsRefusedAndRetried) {
  FakeClient client;
  const json added = client.add(kRuns, {{"metadata", {{"namespace", "dr"}, {"name", "run-1"}}}});
  const std::string decidedFrom = added["metadata"]["resourceVersion"];
  // relops's own first write moves the object on; a reconcile from the stale cache follows.
  ASSERT_FALSE(applyStatus(client, kRuns, {"dr", "run-1"}, {{"phase", "Running"}}, decidedFrom));
  const std::optional<ReconcileResult> stale =
      applyStatus(client, kRuns, {"dr", "run-1"}, {{"phase", "Error"}}, decidedFrom);
  ASSERT_TRUE(stale);
  EXPECT_EQ((*client.object(kRuns, {"dr", "run-1"}))["status"]["phase"], "Running");
  // From the current version the write goes through.
  const std::string current =
      (*client.object(kRuns, {"dr", "run-1"}))["metadata"]["resourceVersion"];
  EXPECT_FALSE(applyStatus(client, kRuns, {"dr", "run-1"}, {{"phase", "Succeeded"}}, current));
  EXPECT_EQ((*client.object(kRuns, {"dr", "run-1"}))["status"]["phase"], "Succeeded");
}

}  // namespace
}  // namespace relops::runtime
