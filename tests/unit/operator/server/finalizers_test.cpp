// Finalizer helpers: guarded JSON patches, against the FakeClient.
#include "operator/runtime/finalizers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_client.h"

namespace relops::runtime {
namespace {

using nlohmann::json;
using relops::testing::FakeClient;
namespace resources = kube::resources;

constexpr char kFinalizer[] = "relops.dev/cleanup";

const kube::ResourceRef kDrills{"relops.dev", "v1alpha1", "drdrills", "DRDrill", true};

class FinalizersTest : public ::testing::Test {
 protected:
  json addDrill(json finalizers = nullptr) {
    json object = {{"metadata", {{"namespace", "dr"}, {"name", "nightly"}}},
                   {"spec", {{"schedule", "0 3 * * *"}}}};
    if (!finalizers.is_null()) object["metadata"]["finalizers"] = std::move(finalizers);
    return client_.add(kDrills, object);
  }
  json current() { return *client_.object(kDrills, {"dr", "nightly"}); }

  FakeClient client_;
};

TEST_F(FinalizersTest, HasFinalizer) {
  EXPECT_FALSE(hasFinalizer(json::object(), kFinalizer));
  EXPECT_FALSE(hasFinalizer({{"metadata", {{"finalizers", {"other"}}}}}, kFinalizer));
  EXPECT_TRUE(hasFinalizer({{"metadata", {{"finalizers", {"other", kFinalizer}}}}}, kFinalizer));
}

TEST_F(FinalizersTest, AddPatchIsGuardedByResourceVersion) {
  const json object = addDrill();
  auto patch = addFinalizerPatch(object, kFinalizer);
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(
      json::parse(*patch),
      json::parse(
          R"([{"op":"test","path":"/metadata/resourceVersion","value":")" +
          object["metadata"]["resourceVersion"].get<std::string>() +
          R"("},{"op":"add","path":"/metadata/finalizers","value":["relops.dev/cleanup"]}])"));
}

TEST_F(FinalizersTest, AddsToAnObjectWithoutFinalizers) {
  const json object = addDrill();
  auto added = addFinalizer(client_, kDrills, object, kFinalizer);
  ASSERT_TRUE(added.ok()) << added.error().message();
  EXPECT_EQ((*added)["metadata"]["finalizers"], json({kFinalizer}));
  EXPECT_EQ(current()["metadata"]["finalizers"], json({kFinalizer}));
  EXPECT_NE((*added)["metadata"]["resourceVersion"], object["metadata"]["resourceVersion"]);
  const auto patches = client_.actions("patch");
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].patchType, kube::PatchType::kJson);
}

TEST_F(FinalizersTest, AppendsAfterOtherFinalizers) {
  const json object = addDrill({"someone.else/keep"});
  auto added = addFinalizer(client_, kDrills, object, kFinalizer);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(current()["metadata"]["finalizers"], json({"someone.else/keep", kFinalizer}));
}

TEST_F(FinalizersTest, AlreadyPresentMakesNoCall) {
  const json object = addDrill({kFinalizer});
  auto added = addFinalizer(client_, kDrills, object, kFinalizer);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, object);
  EXPECT_TRUE(client_.actions("patch").empty());
}

TEST_F(FinalizersTest, StaleObjectIsAConflictAndNothingChanges) {
  const json stale = addDrill();
  json changed = stale;
  changed["spec"]["schedule"] = "0 4 * * *";
  ASSERT_TRUE(client_.update(kDrills, changed).ok());

  auto added = addFinalizer(client_, kDrills, stale, kFinalizer);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().kind(), base::ErrorKind::kConflict);
  EXPECT_EQ(added.error().disposition(), base::Disposition::kRetryNow);
  EXPECT_FALSE(current()["metadata"].contains("finalizers"));
}

TEST_F(FinalizersTest, ConcurrentFinalizerIsNeverClobbered) {
  // Someone adds their finalizer after we read the object (which had none):
  // a blind "add /metadata/finalizers" would replace theirs.
  const json stale = addDrill();
  json theirs = stale;
  theirs["metadata"]["finalizers"] = {"someone.else/keep"};
  ASSERT_TRUE(client_.update(kDrills, theirs).ok());
  for (FinalizerGuard guard : {FinalizerGuard::kResourceVersion, FinalizerGuard::kFinalizerList}) {
    auto added = addFinalizer(client_, kDrills, stale, kFinalizer, guard);
    ASSERT_FALSE(added.ok());
    EXPECT_EQ(added.error().kind(), base::ErrorKind::kConflict);
  }
  EXPECT_EQ(current()["metadata"]["finalizers"], json({"someone.else/keep"}));
}

TEST_F(FinalizersTest, ListGuardToleratesUnrelatedChanges) {
  const json stale = addDrill({"someone.else/keep"});
  json labelled = stale;
  labelled["metadata"]["labels"] = {{"team", "dr"}};
  ASSERT_TRUE(client_.update(kDrills, labelled).ok());
  auto added = addFinalizer(client_, kDrills, stale, kFinalizer, FinalizerGuard::kFinalizerList);
  ASSERT_TRUE(added.ok()) << added.error().message();
  EXPECT_EQ(current()["metadata"]["finalizers"], json({"someone.else/keep", kFinalizer}));
  EXPECT_EQ(current()["metadata"]["labels"]["team"], "dr");
}

TEST_F(FinalizersTest, RemovesOnlyOursEvenWhenRepeated) {
  const json object = addDrill({kFinalizer, "someone.else/keep", kFinalizer});
  auto patch = removeFinalizerPatch(object, kFinalizer);
  ASSERT_TRUE(patch.ok());
  // Highest index first, so the indices stay right as entries go.
  EXPECT_EQ(json::parse(*patch)[1]["path"], "/metadata/finalizers/2");
  EXPECT_EQ(json::parse(*patch)[2]["path"], "/metadata/finalizers/0");
  auto removed = removeFinalizer(client_, kDrills, object, kFinalizer);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(current()["metadata"]["finalizers"], json({"someone.else/keep"}));
}

TEST_F(FinalizersTest, RemovingTheLastFinalizerLetsDeletionFinish) {
  addDrill({kFinalizer});
  ASSERT_TRUE(client_.remove(kDrills, {"dr", "nightly"}).ok());
  const json deleting = current();
  ASSERT_TRUE(deleting["metadata"].contains("deletionTimestamp"));
  auto removed = removeFinalizer(client_, kDrills, deleting, kFinalizer);
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(client_.object(kDrills, {"dr", "nightly"}).has_value());
}

TEST_F(FinalizersTest, AbsentFinalizerMakesNoCall) {
  const json object = addDrill({"someone.else/keep"});
  auto removed = removeFinalizer(client_, kDrills, object, kFinalizer);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(client_.actions("patch").empty());
}

TEST_F(FinalizersTest, ObjectWithoutResourceVersionIsRefused) {
  const json unsaved = {{"metadata", {{"namespace", "dr"}, {"name", "nightly"}}}};
  auto added = addFinalizer(client_, kDrills, unsaved, kFinalizer);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().kind(), base::ErrorKind::kInternal);
}

TEST_F(FinalizersTest, ValidationErrorsAreNotMistakenForConflicts) {
  const json object = addDrill();
  client_.failNext(
      "patch", kDrills,
      base::Error(base::ErrorKind::kInvalid,
                  "DRDrill.relops.dev \"nightly\" is invalid: metadata.finalizers[0]: "
                  "Invalid value")
          .withHttpStatus(422)
          .withCause({"metadata.finalizers[0]", "FieldValueInvalid", "Invalid value"}));
  auto added = addFinalizer(client_, kDrills, object, "Not A Valid/Name");
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().kind(), base::ErrorKind::kInvalid);
  EXPECT_THAT(added.error().message(), ::testing::HasSubstr("add finalizer"));
}

TEST_F(FinalizersTest, ServerErrorsPassThroughWithContext) {
  const json object = addDrill();
  client_.failNext("patch", kDrills, base::Error(base::ErrorKind::kTransient, "connection reset"));
  auto added = addFinalizer(client_, kDrills, object, kFinalizer);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().kind(), base::ErrorKind::kTransient);
  EXPECT_THAT(added.error().message(),
              ::testing::HasSubstr("add finalizer relops.dev/cleanup on drdrills dr/nightly"));
}

}  // namespace
}  // namespace relops::runtime
