#include "controllers/common/object_trim.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace relops::common {
namespace {

using nlohmann::json;

TEST(KeepMetadata, KeepsIdentityAndTheNamedFieldsOnly) {
  json object = {{"apiVersion", "apps/v1"},
                 {"kind", "Deployment"},
                 {"metadata", {{"name", "web"}, {"labels", {{"a", "b"}}}, {"uid", "u"}}},
                 {"spec", {{"replicas", 2}}}};
  EXPECT_EQ(keepMetadata(object, {"name", "labels", "generation"}),
            json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
                "metadata":{"name":"web","labels":{"a":"b"}}})"));
  json noMetadata = {{"kind", "Thing"}};
  EXPECT_EQ(keepMetadata(noMetadata, {"name"}), json::parse(R"({"apiVersion":"","kind":"Thing"})"));
}

TEST(KeepWorkloadEssentials, KeepsWhatTheControllersReadOfAWorkload) {
  json object = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"shop","uid":"u","resourceVersion":"7",
                  "generation":3,"labels":{"app":"web"},"annotations":{"big":"x"},
                  "managedFields":[{}]},
      "spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"app"}]}}},
      "status":{"readyReplicas":1}})");
  keepWorkloadEssentials(object);
  EXPECT_EQ(object, json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"shop","uid":"u","resourceVersion":"7",
                  "generation":3,"labels":{"app":"web"}},
      "spec":{"replicas":2},"status":{"readyReplicas":1}})"));
}

}  // namespace
}  // namespace relops::common
