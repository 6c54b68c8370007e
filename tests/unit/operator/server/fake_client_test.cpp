// The FakeClient keeps the API server's concurrency and error rules, since
// the runtime's tests depend on them.
#include "tests/support/fake_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "tests/support/fake_clock.h"

namespace relops::testing {
namespace {

using kube::Json;
using ::testing::HasSubstr;
namespace resources = kube::resources;

kube::ListOptions listOptions(int limit, std::string labels = "", std::string fields = "") {
  kube::ListOptions options;
  options.limit = limit;
  options.labelSelector = std::move(labels);
  options.fieldSelector = std::move(fields);
  return options;
}

kube::WatchOptions watchFrom(std::string resourceVersion) {
  kube::WatchOptions options;
  options.resourceVersion = std::move(resourceVersion);
  return options;
}

kube::WriteOptions statusSubresource() {
  kube::WriteOptions options;
  options.subresource = "status";
  return options;
}

kube::WriteOptions forceApply() {
  kube::WriteOptions options;
  options.force = true;
  return options;
}

kube::DeleteOptions withUid(std::string uid) {
  kube::DeleteOptions options;
  options.preconditionUid = std::move(uid);
  return options;
}

Json configMap(const std::string& ns, const std::string& name, Json data = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"data", std::move(data)}};
}

TEST(FakeClient, CreateGetAndResourceVersions) {
  FakeClient client;
  auto created = client.create(resources::kConfigMaps, configMap("a", "one"));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)["metadata"]["uid"], "uid-1");
  EXPECT_EQ((*created)["metadata"]["generation"], 1);
  const std::string version = (*created)["metadata"]["resourceVersion"];
  EXPECT_FALSE(version.empty());

  auto read = client.get(resources::kConfigMaps, {"a", "one"});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, *created);

  auto again = client.create(resources::kConfigMaps, configMap("a", "one"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind(), base::ErrorKind::kAlreadyExists);
  EXPECT_EQ(again.error().httpStatus(), 409);

  auto missing = client.get(resources::kConfigMaps, {"a", "two"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), base::ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().message(), "configmaps \"two\" not found");
}

TEST(FakeClient, NamespacedCreateNeedsNamespace) {
  FakeClient client;
  Json object = configMap("", "x");
  object["metadata"].erase("namespace");
  auto created = client.create(resources::kConfigMaps, object);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().kind(), base::ErrorKind::kBadRequest);
}

TEST(FakeClient, UpdateWithStaleResourceVersionConflicts) {
  FakeClient client;
  Json object = client.add(resources::kConfigMaps, configMap("a", "one"));
  Json first = object;
  first["data"]["k"] = "1";
  auto updated = client.update(resources::kConfigMaps, first);
  ASSERT_TRUE(updated.ok());
  EXPECT_NE((*updated)["metadata"]["resourceVersion"], object["metadata"]["resourceVersion"]);

  Json stale = object;  // still carries the old resourceVersion
  stale["data"]["k"] = "2";
  auto conflict = client.update(resources::kConfigMaps, stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().kind(), base::ErrorKind::kConflict);
  EXPECT_THAT(conflict.error().message(), HasSubstr("the object has been modified"));
  EXPECT_EQ((*client.object(resources::kConfigMaps, {"a", "one"}))["data"]["k"], "1");
}

TEST(FakeClient, GenerationFollowsSpecNotMetadataOrStatus) {
  FakeClient client;
  const kube::ResourceRef slos{"relops.dev", "v1alpha1", "servicelevelobjectives",
                               "ServiceLevelObjective", true};
  client.enableStatusSubresource(slos);
  Json object = client.add(
      slos, {{"metadata", {{"namespace", "a"}, {"name", "s"}}}, {"spec", {{"objective", "99.9"}}}});
  Json labelled = object;
  labelled["metadata"]["labels"] = {{"team", "x"}};
  labelled["status"] = {{"ignored", true}};
  auto afterLabel = client.update(slos, labelled);
  ASSERT_TRUE(afterLabel.ok());
  EXPECT_EQ((*afterLabel)["metadata"]["generation"], 1);
  EXPECT_FALSE(afterLabel->contains("status")) << "the main resource ignores status";

  Json status = *afterLabel;
  status["status"] = {{"observedGeneration", 1}};
  status["spec"]["objective"] = "1";  // ignored by the status subresource
  auto afterStatus = client.update(slos, status, statusSubresource());
  ASSERT_TRUE(afterStatus.ok());
  EXPECT_EQ((*afterStatus)["status"]["observedGeneration"], 1);
  EXPECT_EQ((*afterStatus)["spec"]["objective"], "99.9");
  EXPECT_EQ((*afterStatus)["metadata"]["generation"], 1);

  Json spec = *afterStatus;
  spec["spec"]["objective"] = "99.5";
  auto afterSpec = client.update(slos, spec);
  ASSERT_TRUE(afterSpec.ok());
  EXPECT_EQ((*afterSpec)["metadata"]["generation"], 2);
  EXPECT_EQ((*afterSpec)["status"]["observedGeneration"], 1);
}

TEST(FakeClient, NoOpWriteKeepsResourceVersion) {
  FakeClient client;
  Json object = client.add(resources::kConfigMaps, configMap("a", "one"));
  auto same = client.update(resources::kConfigMaps, object);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ((*same)["metadata"]["resourceVersion"], object["metadata"]["resourceVersion"]);
}

TEST(FakeClient, MergeAndJsonPatches) {
  FakeClient client;
  Json object = client.add(resources::kConfigMaps, configMap("a", "one", {{"x", "1"}}));
  auto merged = client.patch(resources::kConfigMaps, {"a", "one"}, kube::PatchType::kMerge,
                             R"({"data":{"y":"2","x":null}})");
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ((*merged)["data"], Json({{"y", "2"}}));

  const std::string version = (*merged)["metadata"]["resourceVersion"];
  const std::string guarded = R"([{"op":"test","path":"/metadata/resourceVersion","value":")" +
                              version + R"("},{"op":"add","path":"/data/z","value":"3"}])";
  auto patched =
      client.patch(resources::kConfigMaps, {"a", "one"}, kube::PatchType::kJson, guarded);
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ((*patched)["data"]["z"], "3");

  // The same guard again is stale now: 422 with the API server's generic message.
  auto failed = client.patch(resources::kConfigMaps, {"a", "one"}, kube::PatchType::kJson, guarded);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind(), base::ErrorKind::kInvalid);
  EXPECT_EQ(failed.error().httpStatus(), 422);
  EXPECT_THAT(failed.error().message(), HasSubstr("rejected our request"));
  EXPECT_TRUE(failed.error().causes().empty());

  // A resourceVersion inside a merge patch is a precondition.
  auto stale = client.patch(resources::kConfigMaps, {"a", "one"}, kube::PatchType::kMerge,
                            R"({"metadata":{"resourceVersion":")" +
                                object["metadata"]["resourceVersion"].get<std::string>() +
                                R"("},"data":{"w":"4"}})");
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind(), base::ErrorKind::kConflict);

  auto missing = client.patch(resources::kConfigMaps, {"a", "nope"}, kube::PatchType::kMerge, "{}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), base::ErrorKind::kNotFound);
}

TEST(FakeClient, ApplyCreatesThenMerges) {
  FakeClient client;
  auto created =
      kube::apply(client, resources::kConfigMaps, configMap("a", "cm", {{"k", "1"}}), forceApply());
  ASSERT_TRUE(created.ok());
  auto merged =
      kube::apply(client, resources::kConfigMaps, configMap("a", "cm", {{"j", "2"}}), forceApply());
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ((*merged)["data"], Json({{"k", "1"}, {"j", "2"}}));
}

TEST(FakeClient, DeleteWithFinalizersWaitsForThem) {
  FakeClock clock;
  FakeClient client(&clock);
  Json object = configMap("a", "one");
  object["metadata"]["finalizers"] = {"relops.dev/cleanup"};
  object = client.add(resources::kConfigMaps, object);
  ASSERT_TRUE(client.remove(resources::kConfigMaps, {"a", "one"}).ok());
  auto deleting = client.object(resources::kConfigMaps, {"a", "one"});
  ASSERT_TRUE(deleting.has_value());
  EXPECT_EQ((*deleting)["metadata"]["deletionTimestamp"], "1970-01-01T00:00:00Z");

  auto removed = client.patch(resources::kConfigMaps, {"a", "one"}, kube::PatchType::kMerge,
                              R"({"metadata":{"finalizers":null}})");
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(client.object(resources::kConfigMaps, {"a", "one"}).has_value());
}

TEST(FakeClient, DeletePreconditions) {
  FakeClient client;
  Json object = client.add(resources::kConfigMaps, configMap("a", "one"));
  auto wrongUid = client.remove(resources::kConfigMaps, {"a", "one"}, withUid("someone-else"));
  ASSERT_FALSE(wrongUid.ok());
  EXPECT_EQ(wrongUid.error().kind(), base::ErrorKind::kConflict);
  ASSERT_TRUE(client
                  .remove(resources::kConfigMaps, {"a", "one"},
                          withUid(object["metadata"]["uid"].get<std::string>()))
                  .ok());
  auto gone = client.remove(resources::kConfigMaps, {"a", "one"});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind(), base::ErrorKind::kNotFound);
}

TEST(FakeClient, ClusterScopedObjectsIgnoreNamespace) {
  FakeClient client;
  auto created = client.create(resources::kNamespaces,
                               {{"metadata", {{"name", "team-a"}, {"namespace", "x"}}}});
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE((*created)["metadata"].contains("namespace"));
  EXPECT_TRUE(client.get(resources::kNamespaces, {"", "team-a"}).ok());
  EXPECT_TRUE(client.get(resources::kNamespaces, {"whatever", "team-a"}).ok());
}

TEST(FakeClient, ListFiltersAndPages) {
  FakeClient client;
  for (const char* ns : {"a", "b"}) {
    for (int i = 0; i < 3; ++i) {
      Json object = configMap(ns, "cm" + std::to_string(i));
      object["metadata"]["labels"] = {{"tier", i == 0 ? "one" : "two"}};
      client.add(resources::kConfigMaps, object);
    }
  }
  auto all = kube::listAll(client, resources::kConfigMaps, "", listOptions(2));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 6u);
  EXPECT_EQ(client.actions("list").size(), 3u);

  auto inA = client.list(resources::kConfigMaps, "a", listOptions(0));
  ASSERT_TRUE(inA.ok());
  EXPECT_EQ(inA->items.size(), 3u);

  auto tierTwo = client.list(resources::kConfigMaps, "", listOptions(0, "tier=two"));
  ASSERT_TRUE(tierTwo.ok());
  EXPECT_EQ(tierTwo->items.size(), 4u);
  auto notOne = client.list(resources::kConfigMaps, "b", listOptions(0, "tier notin (one),tier"));
  ASSERT_TRUE(notOne.ok());
  EXPECT_EQ(notOne->items.size(), 2u);
  auto byName = client.list(resources::kConfigMaps, "", listOptions(0, "", "metadata.name=cm1"));
  ASSERT_TRUE(byName.ok());
  EXPECT_EQ(byName->items.size(), 2u);
  EXPECT_FALSE(client.list(resources::kConfigMaps, "", listOptions(0, "", "a in (b)")).ok());
}

TEST(FakeClient, ReactorsFailCallsAndRecordActions) {
  FakeClient client;
  client.failNext("get", resources::kLeases,
                  base::Error(base::ErrorKind::kTransient, "connection refused"));
  auto failed = client.get(resources::kLeases, {"ns", "x"});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind(), base::ErrorKind::kTransient);
  auto next = client.get(resources::kLeases, {"ns", "x"});
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().kind(), base::ErrorKind::kNotFound);
  ASSERT_EQ(client.actions("get", resources::kLeases).size(), 2u);
  EXPECT_EQ(client.actions()[0].name, "x");
  client.clearActions();
  EXPECT_TRUE(client.actions().empty());
}

TEST(FakeClient, WatchReplaysFromResourceVersionAndFollows) {
  FakeClient client;
  Json first = client.add(resources::kConfigMaps, configMap("a", "one"));
  const std::string from = first["metadata"]["resourceVersion"];
  Json second = client.add(resources::kConfigMaps, configMap("a", "two"));

  auto stream = client.watch(resources::kConfigMaps, "a", watchFrom(from));
  ASSERT_TRUE(stream.ok());
  auto event = (*stream)->next();
  ASSERT_TRUE(event.ok() && event->has_value());
  EXPECT_EQ((*event)->type, kube::WatchEventType::kAdded);
  EXPECT_EQ((*event)->object["metadata"]["name"], "two");

  auto later = std::async(std::launch::async, [&] { return (*stream)->next(); });
  ASSERT_TRUE(client.remove(resources::kConfigMaps, {"a", "one"}).ok());
  auto deleted = later.get();
  ASSERT_TRUE(deleted.ok() && deleted->has_value());
  EXPECT_EQ((*deleted)->type, kube::WatchEventType::kDeleted);
  EXPECT_EQ((*deleted)->object["metadata"]["name"], "one");

  client.sendBookmark(resources::kConfigMaps);
  auto bookmark = (*stream)->next();
  ASSERT_TRUE(bookmark.ok() && bookmark->has_value());
  EXPECT_EQ((*bookmark)->type, kube::WatchEventType::kBookmark);

  client.closeWatches();
  auto closed = (*stream)->next();
  ASSERT_TRUE(closed.ok());
  EXPECT_FALSE(closed->has_value());
  (void)second;
}

TEST(FakeClient, WatchFromNothingStartsWithSyntheticAdds) {
  FakeClient client;
  client.add(resources::kConfigMaps, configMap("a", "one"));
  client.add(resources::kConfigMaps, configMap("b", "two"));
  auto stream = client.watch(resources::kConfigMaps, "", {});
  ASSERT_TRUE(stream.ok());
  for (const char* name : {"one", "two"}) {
    auto event = (*stream)->next();
    ASSERT_TRUE(event.ok() && event->has_value());
    EXPECT_EQ((*event)->type, kube::WatchEventType::kAdded);
    EXPECT_EQ((*event)->object["metadata"]["name"], name);
  }
  auto stopper = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (*stream)->stop();
  });
  auto stopped = (*stream)->next();
  ASSERT_TRUE(stopped.ok());
  EXPECT_FALSE(stopped->has_value());
}

TEST(FakeClient, WatchFromCompactedVersionIsGone) {
  FakeClient client;
  Json object = client.add(resources::kConfigMaps, configMap("a", "one"));
  client.add(resources::kConfigMaps, configMap("a", "two"));
  client.compact();
  auto stream =
      client.watch(resources::kConfigMaps, "a", watchFrom(object["metadata"]["resourceVersion"]));
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.error().kind(), base::ErrorKind::kGone);
  EXPECT_EQ(stream.error().httpStatus(), 410);
}

}  // namespace
}  // namespace relops::testing
