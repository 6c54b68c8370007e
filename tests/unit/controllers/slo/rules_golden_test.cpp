// Whole generated rule groups against golden files (Pyrra tests slo/rules.go the same
// way). RELOPS_UPDATE_GOLDEN=1 rewrites them; review the diff. tests/unit/controllers/slo/
// check_goldens.sh runs promtool on every one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "controllers/common/yaml_json.h"
#include "controllers/slo/rule_output.h"
#include "controllers/slo/rules.h"
#include "slo_builder.h"

namespace relops::slo {
namespace {

using testing::SloBuilder;

enum class Form { kRuleFile, kPrometheusRule, kConfigMap };

struct GoldenCase {
  const char* name;
  SloBuilder builder;
  Form form = Form::kRuleFile;
};

std::string render(const GoldenCase& c) {
  // As `relops run` and `relops generate` produce them: confined to the SLO's namespace.
  const ServiceLevelObjective slo = confinedToNamespace(c.builder.build());
  const auto rules = generateRules(slo);
  EXPECT_TRUE(rules);
  switch (c.form) {
    case Form::kRuleFile:
      return toYaml(ruleFileJson(rules->groups));
    case Form::kPrometheusRule:
      return toYaml(*prometheusRuleJson(slo, *rules));
    case Form::kConfigMap:
      return toYaml(*ruleConfigMapJson(slo, *rules));
  }
  return "";
}

std::string suffix(Form form) {
  switch (form) {
    case Form::kRuleFile:
      return ".rules.yaml";
    case Form::kPrometheusRule:
      return ".prometheusrule.yaml";
    case Form::kConfigMap:
      return ".configmap.yaml";
  }
  return "";
}

std::vector<GoldenCase> cases() {
  return {
      {"ratio_errors_28d", SloBuilder()
                               .name("checkout-availability")
                               .onCall("payments-primary")
                               .alerting("runbookURL", "https://runbooks.example.com/checkout")
                               .alerting("labels", {{"team", "payments"}})},
      {"ratio_good_grouped_7d",
       SloBuilder()
           .name("search-success")
           .objective("99.5")
           .window("7d")
           .ratioGood(R"(grpc_server_handled_total{grpc_service="search.Search",grpc_code="OK"})",
                      R"(grpc_server_handled_total{grpc_service="search.Search"})")
           .grouping({"grpc_method"})},
      {"latency_30d_custom_windows",
       SloBuilder()
           .name("checkout-latency")
           .objective("99")
           .window("30d")
           .latency(R"(http_request_duration_seconds_bucket{job="checkout"})", "0.3",
                    R"(http_request_duration_seconds_count{job="checkout"})")
           .window("page", "critical", "2", "1h", "5m", "2m")
           .window("ticket", "warning", "10", "3d", "6h")
           .alerting("absentFor", "15m")},
      {"ratio_90d", SloBuilder().name("ledger-writes").objective("99.99").window("90d")},
      {"ratio_1d_short_window", SloBuilder().name("batch").objective("95").window("1d")},
      {"alerting_disabled", SloBuilder().name("quiet").alerting("enabled", false)},
      {"ratio_errors_28d",
       SloBuilder().name("checkout-availability").uid("0b6e7f0c-0000-4000-8000-000000000001"),
       Form::kPrometheusRule},
      {"latency_configmap",
       SloBuilder()
           .name("checkout-latency")
           .objective("99")
           .latency(R"(http_request_duration_seconds_bucket{job="checkout"})", "0.3",
                    R"(http_request_duration_seconds_count{job="checkout"})"),
       Form::kConfigMap},
  };
}

TEST(RulesGolden, MatchesGoldenFiles) {
  const bool update = std::getenv("RELOPS_UPDATE_GOLDEN") != nullptr &&
                      std::string(std::getenv("RELOPS_UPDATE_GOLDEN")) == "1";
  for (const GoldenCase& c : cases()) {
    const std::string path = std::string(RELOPS_SLO_GOLDEN_DIR) + "/" + c.name + suffix(c.form);
    const std::string actual = render(c);
    if (update) {
      std::ofstream(path, std::ios::binary) << actual;
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << path << " is missing: run with RELOPS_UPDATE_GOLDEN=1";
    std::stringstream expected;
    expected << in.rdbuf();
    EXPECT_EQ(actual, expected.str())
        << c.name << suffix(c.form)
        << " differs: run with RELOPS_UPDATE_GOLDEN=1 and review the diff";
  }
}

}  // namespace
}  // namespace relops::slo
