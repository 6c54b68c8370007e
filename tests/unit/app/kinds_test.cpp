// The list of kinds `relops run` wires (app/kinds.cpp) against the API it serves (crds/): the
// chart's RBAC for relops.dev resources and the Argo CD health checks are generated from
// crds/ (helm/generate.py, deploy/argocd/health/generate.py), so a kind missing from either
// list would run without RBAC or serve a CRD nothing reconciles.
#include "app/kinds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "controllers/common/yaml_json.h"
#include "operator/cli/flags.h"

namespace relops::app {
namespace {

std::set<std::string> crdNames() {
  std::set<std::string> names;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(RELOPS_SOURCE_DIR) / "crds")) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream file(entry.path());
    std::stringstream text;
    text << file.rdbuf();
    auto documents = common::parseYamlDocuments(text.str());
    EXPECT_TRUE(documents.ok()) << entry.path();
    if (!documents.ok()) continue;
    for (const nlohmann::json& document : *documents) {
      if (document.value("kind", "") == "CustomResourceDefinition") {
        names.insert(document["metadata"]["name"].get<std::string>());
      }
    }
  }
  return names;
}

TEST(Kinds, ReconcileExactlyTheCustomResourcesInCrds) {
  std::set<std::string> reconciled;
  for (const auto& kind : kinds()) {
    for (const kube::ResourceRef& resource : kind->primaries()) {
      EXPECT_TRUE(reconciled.insert(resource.resource + "." + resource.group).second)
          << resource.resource << " is reconciled by two kinds";
    }
  }
  EXPECT_EQ(reconciled, crdNames());
}

TEST(Kinds, DeclareEachFlagOnce) {
  // FlagSet throws on a name added twice: two kinds claiming one flag would not start.
  const auto all = kinds();
  cli::FlagSet flags("relops run");
  for (const auto& kind : all) EXPECT_NO_THROW(kind->addFlags(flags));
  std::ostringstream usage;
  flags.printUsage(usage);
  EXPECT_THAT(usage.str(), ::testing::HasSubstr("--prometheus-url"));
  EXPECT_THAT(usage.str(), ::testing::HasSubstr("--calendar-bind-address"));
  EXPECT_THAT(usage.str(), ::testing::HasSubstr("--velero-namespace"));
}

}  // namespace
}  // namespace relops::app
