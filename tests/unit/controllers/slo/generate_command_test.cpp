#include "app/cli/generate_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/cli/cli.h"
#include "controllers/common/yaml_json.h"

namespace relops::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun generate(std::vector<std::string_view> args) {
  std::ostringstream out;
  std::ostringstream err;
  args.insert(args.begin(), "generate");
  const int code = run(args, {out, err});
  return {code, out.str(), err.str()};
}

class GenerateCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("relops-generate-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;
};

const std::string kExamples = RELOPS_CRD_EXAMPLES_DIR;

TEST_F(GenerateCommand, PrometheusRuleFromAFile) {
  const CliRun result = generate({"-f", kExamples + "/slo-ratio.yaml"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_THAT(result.out, HasSubstr("kind: PrometheusRule\n"));
  EXPECT_THAT(result.out, HasSubstr("name: relops-slo-checkout-availability\n"));
  EXPECT_THAT(result.err, IsEmpty());
}

TEST_F(GenerateCommand, DirectoryIntoOneRuleFileSkippingOtherKinds) {
  const CliRun result = generate({"-f", kExamples, "--format", "rulefile"});
  EXPECT_EQ(result.code, kExitOk) << result.err;
  auto documents = common::parseYamlDocuments(result.out);
  ASSERT_TRUE(documents);
  ASSERT_EQ(documents->size(), 1u);
  // ratio, calendar month, grouped ratio, latency
  EXPECT_EQ((*documents)[0]["groups"].size(), 4u);
  EXPECT_THAT(result.err, HasSubstr("shop/cart-availability: workload indicator"));
}

TEST_F(GenerateCommand, MultiDocumentFileAsJsonList) {
  const std::string file = write("two.yaml", R"(
apiVersion: relops.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: a, namespace: x}
spec: {service: a, objective: "99", indicator: {ratio: {errors: "e_total", total: "t_total"}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
---
apiVersion: relops.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: b, namespace: x}
spec: {service: b, objective: "99", indicator: {ratio: {errors: "e_total", total: "t_total"}}}
)");
  const CliRun result = generate({"-f", file, "-o", "json", "--format=configmap"});
  ASSERT_EQ(result.code, kExitOk) << result.err;
  const auto list = nlohmann::json::parse(result.out);
  EXPECT_EQ(list["kind"], "List");
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["items"][1]["kind"], "ConfigMap");
  EXPECT_TRUE(list["items"][1]["data"].contains("b.rules.yaml"));
}

TEST_F(GenerateCommand, BadInputNamesFileDocumentAndField) {
  const std::string file = write("bad.yaml", R"(
apiVersion: relops.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: a}
spec: {service: a, objective: 99.9, indicator: {ratio: {errors: "e_total", total: "t_total"}}}
)");
  const CliRun result = generate({"-f", file});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_THAT(result.out, IsEmpty());
  EXPECT_THAT(result.err, HasSubstr(file + ": document 1: spec.objective: must be a string"));
}

TEST_F(GenerateCommand, BrokenYamlIsBadInputNotACrash) {
  const std::string file = write("broken.yaml", "spec: [unclosed\n  - {\n");
  const CliRun result = generate({"-f", file});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_THAT(result.err, HasSubstr("invalid YAML at line"));
}

TEST_F(GenerateCommand, HostileYamlIsBadInputNotACrash) {
  const std::string cycle = write("cycle.yaml", "a: &a [*a]\n");
  CliRun result = generate({"-f", cycle});
  EXPECT_EQ(result.code, kExitFailure);
  EXPECT_THAT(result.err, HasSubstr("nested deeper than 64 levels"));
  const std::string deep =
      write("deep.yaml", "a: " + std::string(5000, '[') + std::string(5000, ']'));
  EXPECT_EQ(generate({"-f", deep}).code, kExitFailure);
}

TEST_F(GenerateCommand, NothingToGenerate) {
  const std::string file = write("empty.yaml", "# nothing\n");
  EXPECT_EQ(generate({"-f", file}).code, kExitFailure);
  EXPECT_EQ(generate({"-f", (dir_ / "missing.yaml").string()}).code, kExitFailure);
}

TEST_F(GenerateCommand, UsageErrors) {
  for (std::vector<std::string_view> args : {std::vector<std::string_view>{},
                                             {"-f"},
                                             {"-f", "x", "-o", "xml"},
                                             {"-f", "x", "--format", "sloth"},
                                             {"-f", "x", "--bogus"},
                                             {"-f", "x", "-l", "novalue"},
                                             {"-f", "x", "--slo-namespace-label=no"}}) {
    const CliRun result = generate(args);
    EXPECT_EQ(result.code, kExitUsage);
    EXPECT_THAT(result.err, HasSubstr("relops generate:"));
  }
  const CliRun help = generate({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_THAT(help.out, HasSubstr("--format"));
}

TEST_F(GenerateCommand, LabelsGoOnTheObjects) {
  const CliRun result = generate({"-f", kExamples + "/slo-latency.yaml", "-l", "role=alert-rules"});
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_THAT(result.out, HasSubstr("role: alert-rules"));
  EXPECT_THAT(result.out, Not(HasSubstr("ownerReferences")));
}

// As in the cluster: every selector is confined to metadata.namespace, unless turned off.
TEST_F(GenerateCommand, SelectorsAreConfinedToTheObjectsNamespace) {
  const std::string file = write("slo.yaml", R"(apiVersion: relops.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {name: web, namespace: team-a}
spec:
  service: web
  objective: "99.9"
  indicator:
    ratio: {errors: 'reqs{namespace="team-b",code="500"}', total: 'reqs{namespace=~".+"}'}
)");
  const CliRun confined = generate({"-f", file, "--format", "rulefile"});
  EXPECT_EQ(confined.code, kExitOk) << confined.err;
  EXPECT_THAT(confined.out, HasSubstr(R"(reqs{code="500",namespace="team-a"}[5m])"));
  EXPECT_THAT(confined.out, HasSubstr(R"(reqs{namespace="team-a"}[5m])"));
  EXPECT_THAT(confined.out, Not(HasSubstr("team-b")));

  const CliRun asWritten =
      generate({"-f", file, "--format", "rulefile", "--slo-namespace-label=false"});
  EXPECT_EQ(asWritten.code, kExitOk) << asWritten.err;
  EXPECT_THAT(asWritten.out, HasSubstr(R"(reqs{namespace="team-b",code="500"}[5m])"));
}

}  // namespace
}  // namespace relops::cli
