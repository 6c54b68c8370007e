#include "controllers/slo/slo_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "controllers/common/yaml_json.h"
#include "slo_builder.h"

namespace relops::slo {
namespace {

using ::testing::HasSubstr;
using testing::SloBuilder;

nlohmann::json readExample(const std::string& file) {
  std::ifstream in(std::string(RELOPS_CRD_EXAMPLES_DIR) + "/" + file);
  std::stringstream text;
  text << in.rdbuf();
  auto documents = parseYamlDocuments(text.str());
  EXPECT_TRUE(documents) << file;
  return documents && !documents->empty() ? documents->front() : nlohmann::json();
}

TEST(SloTypes, EveryExampleParses) {
  for (const char* file :
       {"slo-ratio.yaml", "slo-ratio-grouped.yaml", "slo-latency.yaml", "slo-workload.yaml"}) {
    auto slo = parseSlo(readExample(file));
    EXPECT_TRUE(slo) << file << ": " << (slo ? "" : slo.error().describe());
  }
}

// The burn-rate table relops applies when spec.alerting.burnRateWindows is absent (an
// offline file) is the one the API server fills in from the CRD's schema default.
TEST(SloTypes, DefaultBurnRateTableIsTheCrdDefault) {
  std::ifstream in(std::string(RELOPS_CRD_DIR) + "/relops.dev_servicelevelobjectives.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto documents = parseYamlDocuments(text.str());
  ASSERT_TRUE(documents && documents->size() == 1);
  const nlohmann::json& rows =
      (*documents)[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
                  ["properties"]["alerting"]["properties"]["burnRateWindows"]["default"];
  ASSERT_TRUE(rows.is_array()) << rows.dump();
  auto slo = parseSlo(SloBuilder().json());
  ASSERT_TRUE(slo);
  const std::vector<BurnRateWindow> table = defaultBurnRateWindows();
  ASSERT_EQ(slo->spec.alerting.burnRateWindows.size(), table.size());
  ASSERT_EQ(rows.size(), table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    const nlohmann::json& row = rows[i];
    SCOPED_TRACE(row.dump());
    EXPECT_EQ(row["name"], table[i].name);
    EXPECT_EQ(row["severity"], table[i].severity);
    EXPECT_EQ(Percent::parse(row["budgetPercent"].get<std::string>(), "crd")->micros(),
              table[i].budgetPercent.micros());
    EXPECT_EQ(*Duration::parse(row["longWindow"].get<std::string>(), "crd"), table[i].longWindow);
    EXPECT_EQ(*Duration::parse(row["shortWindow"].get<std::string>(), "crd"), table[i].shortWindow);
    EXPECT_EQ(row.contains("for"), table[i].forDuration.has_value());
    EXPECT_EQ(slo->spec.alerting.burnRateWindows[i].name, table[i].name);
  }
}

TEST(SloTypes, AppliesTheSchemaDefaults) {
  auto slo = parseSlo(SloBuilder().json());
  ASSERT_TRUE(slo);
  EXPECT_EQ(slo->spec.window.text(), "28d");
  EXPECT_EQ(slo->spec.budgetingMethod, BudgetingMethod::kOccurrences);
  EXPECT_TRUE(slo->spec.alerting.enabled);
  ASSERT_TRUE(slo->spec.alerting.absentFor);
  EXPECT_EQ(slo->spec.alerting.absentFor->text(), "10m");
  ASSERT_EQ(slo->spec.alerting.burnRateWindows.size(), 4u);
  EXPECT_EQ(slo->spec.alerting.burnRateWindows[0].name, "page-fast");
  EXPECT_EQ(slo->metadata.namespace_, "shop");
}

// What the API server stores after defaulting (kubectl get -o json of the example) must
// come back byte for byte.
TEST(SloTypes, RoundTripsTheStoredObject) {
  const nlohmann::json stored = nlohmann::json::parse(R"({
    "apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
    "metadata": {"name": "checkout-latency", "namespace": "shop", "uid": "u-1", "generation": 3},
    "spec": {
      "service": "checkout", "objective": "99", "window": "30d", "budgetingMethod": "Occurrences",
      "indicator": {"latency": {"bucket": "http_request_duration_seconds_bucket{job=\"checkout\"}",
                                "le": "0.3", "total": "http_request_duration_seconds_count{job=\"checkout\"}",
                                "grouping": ["route"]}},
      "alerting": {"enabled": true, "absentFor": "", "runbookURL": "https://r.example/x",
                   "labels": {"team": "payments"},
                   "burnRateWindows": [{"name": "page", "severity": "critical", "budgetPercent": "2",
                                        "longWindow": "1h", "shortWindow": "5m", "for": "2m"}]},
      "onCallRef": {"name": "payments-primary"}},
    "status": {
      "observedGeneration": 3,
      "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 3,
                      "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "Evaluated", "message": "ok"}],
      "sli": "99.953", "errorBudget": {"remaining": "53.1", "consumed": "46.9"},
      "burnRates": [{"window": "5m", "rate": "0.52"}], "evaluationTime": "2026-01-01T00:00:00Z"}})");
  auto slo = parseSlo(stored);
  ASSERT_TRUE(slo) << slo.error().describe();
  EXPECT_FALSE(slo->spec.alerting.absentFor);
  EXPECT_EQ(sloJson(*slo), stored);
}

TEST(SloTypes, RoundTripsWorkloadStatus) {
  nlohmann::json object = SloBuilder().workload("Deployment", "cart").json();
  object["status"] = {{"workload",
                       {{"goodMinutes", 10},
                        {"badMinutes", 2},
                        {"unknownMinutes", 0},
                        {"ledgerStart", "2026-01-01T00:00:00Z"},
                        {"lastObservedTime", "2026-01-01T00:12:00Z"},
                        {"lastObservedState", "Good"},
                        {"ledger", "g10b2"}}}};
  auto slo = parseSlo(object);
  ASSERT_TRUE(slo) << slo.error().describe();
  EXPECT_EQ(sloJson(*slo)["status"], object["status"]);
}

// Each CEL rule of the CRD has a twin here, so `relops generate` rejects offline what the
// API server rejects, with the field path in the message.
TEST(SloTypes, RejectsInvalidSpecsNamingTheField) {
  struct Case {
    const char* name;
    SloBuilder builder;
    const char* message;
  };
  const Case cases[] = {
      {"objective 100", SloBuilder().objective("100"),
       "spec.objective: objective must be a percentage strictly between 0 and 100"},
      {"objective 0", SloBuilder().objective("0"), "spec.objective"},
      {"objective not a number", SloBuilder().objective("high"), "spec.objective"},
      {"objective negative", SloBuilder().objective("-1"), "spec.objective"},
      {"window too long", SloBuilder().window("91d"), "spec.window: window must be a duration"},
      {"window too short", SloBuilder().window("59m"), "between 1h and 90d"},
      {"window in seconds", SloBuilder().window("3600s"), "spec.window"},
      {"no indicator", SloBuilder().spec("indicator", nlohmann::json::object()),
       "spec.indicator: exactly one indicator"},
      {"two indicators",
       SloBuilder().spec("indicator", {{"ratio", {{"errors", "a"}, {"total", "a"}}},
                                       {"workload", {{"kind", "Deployment"}, {"name", "x"}}}}),
       "exactly one indicator of ratio, latency or workload"},
      {"errors and good",
       SloBuilder().spec("indicator",
                         {{"ratio", {{"errors", "a"}, {"good", "b"}, {"total", "a"}}}}),
       "spec.indicator.ratio: ratio needs exactly one of errors or good"},
      {"selector with function", SloBuilder().ratioErrors("rate(a[5m])", "a"),
       "spec.indicator.ratio.errors: invalid series selector"},
      {"reserved grouping", SloBuilder().grouping({"namespace"}),
       "spec.indicator.ratio.grouping[0]"},
      {"bucket without _bucket",
       SloBuilder().latency("latency_seconds{a=\"b\"}", "0.5", "latency_seconds_count"),
       "spec.indicator.latency.bucket"},
      {"bucket with le", SloBuilder().latency("x_bucket{le=\"1\"}", "1", "x_count"),
       "without an le matcher"},
      {"le not a number", SloBuilder().latency("x_bucket", "fast", "x_count"),
       "spec.indicator.latency.le"},
      {"timeslices with ratio", SloBuilder().spec("budgetingMethod", "Timeslices"),
       "spec.budgetingMethod: budgetingMethod Timeslices is supported only with the workload "
       "indicator"},
      {"short not shorter", SloBuilder().window("w", "critical", "2", "1h", "1h"),
       "spec.alerting.burnRateWindows[0]: shortWindow must be shorter than longWindow"},
      {"budget over 100", SloBuilder().window("w", "critical", "101", "1h", "5m"), "budgetPercent"},
      {"window too long", SloBuilder().window("w", "critical", "2", "91d", "5m"), "longWindow"},
      {"duplicate window",
       SloBuilder()
           .window("w", "critical", "2", "1h", "5m")
           .window("w", "warning", "2", "6h", "30m"),
       "duplicate burn-rate window"},
      {"reserved alert label", SloBuilder().alerting("labels", {{"severity", "x"}}),
       "spec.alerting.labels.severity"},
      {"runbook not a URL", SloBuilder().alerting("runbookURL", "wiki/page"),
       "spec.alerting.runbookURL"},
      {"absentFor in days", SloBuilder().alerting("absentFor", "1d"), "spec.alerting.absentFor"},
      {"objective as a float", SloBuilder().spec("objective", 99.9),
       "spec.objective: must be a string"},
      {"workload kind", SloBuilder().workload("Job", "x"),
       "spec.indicator.workload.kind: Unsupported value"},
  };
  for (const Case& c : cases) {
    auto slo = parseSlo(c.builder.json());
    ASSERT_FALSE(slo) << c.name;
    EXPECT_EQ(slo.error().kind(), base::ErrorKind::kConfig) << c.name;
    EXPECT_THAT(slo.error().message(), HasSubstr(c.message)) << c.name;
  }
}

TEST(SloTypes, RejectsOtherKindsAndMissingSpec) {
  nlohmann::json object = SloBuilder().json();
  object["kind"] = "Deployment";
  EXPECT_THAT(parseSlo(object).error().message(),
              HasSubstr("want relops.dev/v1alpha1 ServiceLevelObjective"));
  object = SloBuilder().json();
  object.erase("spec");
  EXPECT_THAT(parseSlo(object).error().message(), HasSubstr("spec: required"));
  EXPECT_FALSE(parseSlo(nlohmann::json::array()));
}

}  // namespace
}  // namespace relops::slo
