// Inputs the fuzz targets in tests/fuzz found to crash a parser or break a round trip,
// each kept as a test next to the fix.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controllers/common/units.h"
#include "controllers/common/yaml_json.h"
#include "controllers/drill/decide.h"
#include "controllers/drill/drill_types.h"
#include "controllers/policy/policy_types.h"
#include "controllers/slo/slo_types.h"

namespace {

using nlohmann::json;
using testing::HasSubstr;

// fuzz_drill: a DRDrillRun time with a missing field made date::parse cast NaN to an
// integer (undefined behaviour); an offset that is not digits made std::stoi throw.
TEST(FuzzRegression, DrillTimesWithMissingOrNonDigitFieldsAreRejected) {
  using relops::drill::parseTime;
  EXPECT_EQ(parseTime("2-0-0T8:0:"), std::nullopt);
  EXPECT_EQ(parseTime("2026-03-08T08:00:"), std::nullopt);
  EXPECT_EQ(parseTime("2026-03-08T08:00:00+ab:cd"), std::nullopt);
  EXPECT_EQ(parseTime("2026-03-08T08:00:00-0x:30"), std::nullopt);
  ASSERT_TRUE(parseTime("2026-03-08T08:00:00.25+05:30"));
  EXPECT_EQ(relops::common::formatRfc3339(*parseTime("2026-03-08T08:00:00.25+05:30")),
            "2026-03-08T02:30:00Z");
  json spec = {{"drillName", "d"},
               {"scheduledTime", "2-0-0T8:0:"},
               {"runTimeout", "1h"},
               {"job", {{"template", {{"spec", json::object()}}}}}};
  EXPECT_FALSE(relops::drill::parseRunSpec(spec).ok());
}

// fuzz_drill: a veleroRestore run whose stored status says Running but has no Velero
// progress (edited by hand, or written by another version) dereferenced the empty
// progress and read a garbage sandbox name.
TEST(FuzzRegression, RunningVeleroRunWithoutProgressEndsInError) {
  const json spec = {{"drillName", "drill"},
                     {"scheduledTime", "2026-03-08T08:00:00Z"},
                     {"trigger", "Schedule"},
                     {"runTimeout", "1h"},
                     {"veleroRestore", {{"scheduleName", "nightly"}}}};
  relops::drill::RunObserved observed;
  observed.name = "drill-29548800";
  observed.namespace_ = "default";
  observed.generation = 1;
  observed.status = {{"phase", "Running"}, {"startTime", "2026-03-08T08:00:05Z"}};
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1772960400));

  const relops::drill::RunDesired desired = relops::drill::decideRun(spec, observed, now);

  EXPECT_EQ(desired.status.verdict, relops::drill::Verdict::kError);
  EXPECT_EQ(desired.status.reason, "InvalidStatus");
  EXPECT_THAT(desired.status.message, HasSubstr("Velero progress"));
  for (const auto& action : desired.actions) {
    EXPECT_NE(action.object.value("kind", ""), "Namespace") << action.object.dump();
  }
}

// fuzz_yaml_json: bytes that are not UTF-8 became JSON strings that nlohmann cannot dump
// (type_error 316), so `relops generate` and friends died on them.
TEST(FuzzRegression, YamlThatIsNotUtf8IsAnErrorNamingTheByte) {
  const auto parsed = relops::common::parseYamlDocuments("a: b\nc: \xff\xfe\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().message(), HasSubstr("not UTF-8 at byte 9"));
  EXPECT_FALSE(relops::common::parseYamlDocuments("a: \xc0\xaf").ok());      // overlong '/'
  EXPECT_FALSE(relops::common::parseYamlDocuments("a: \xed\xa0\x80").ok());  // a surrogate
  EXPECT_TRUE(relops::common::parseYamlDocuments("a: \xc3\xa9\xf0\x9f\x98\x80").ok());  // é😀
  // Leading NULs made yaml-cpp read the stream as UTF-32 and decode a code point past
  // U+10FFFF.
  EXPECT_FALSE(relops::common::parseYamlDocuments(std::string("\0\0\0\x10 Vi`qp", 10)).ok());
}

// fuzz_yaml_json: a plain scalar of 400 digits (or 1e999) matched the number patterns and
// std::stod threw out_of_range, which nothing caught.
TEST(FuzzRegression, NumbersPastADoubleStayText) {
  const std::string digits(400, '2');
  const auto parsed = relops::common::parseYamlDocuments("a: " + digits + "\nb: 1e999\nc: 12\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0]["a"], digits);
  EXPECT_EQ((*parsed)[0]["b"], "1e999");
  EXPECT_EQ((*parsed)[0]["c"], 12);
  EXPECT_EQ((*parsed)[0]["a"],
            relops::common::parseYamlDocuments(relops::common::toYaml((*parsed)[0]))->at(0)["a"]);
}

// fuzz_yaml_json: on some malformed streams (a lone comma is the smallest) yaml-cpp 0.7
// reports a null document forever without consuming input, and YAML::LoadAll looped,
// allocating without bound.
TEST(FuzzRegression, YamlOnWhichTheParserMakesNoProgressIsAnError) {
  const auto parsed = relops::common::parseYamlDocuments(",\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().message(), HasSubstr("stopped making progress"));
  const auto documents = relops::common::parseYamlDocuments("a: 1\n---\nb: 2\n...\n---\n");
  ASSERT_TRUE(documents.ok()) << documents.error().message();
  EXPECT_EQ(documents->size(), 2u);
}

// fuzz_yaml_json: a string holding a carriage return was written as a block scalar, which
// reads back as a line break (or as nothing); a multi-line string without a final line
// break gained one, since a "|" block always ends in one; a plain "---" read back as a
// document marker.
TEST(FuzzRegression, StringsSurviveToYamlAndBack) {
  const std::vector<std::string> texts = {"\r",        "x\ry\nz", std::string("a\x01") + "b",
                                          "tab\there", "x\ny",    "x\ny \n",
                                          "x\ny\n\n",  " x\ny\n", "rules:\n- a\n",
                                          "---",       "... more"};
  for (const std::string& text : texts) {
    const json document = {{"key", text}};
    const auto again = relops::common::parseYamlDocuments(
        relops::common::toYaml(nlohmann::ordered_json(document)));
    ASSERT_TRUE(again.ok()) << again.error().message();
    ASSERT_EQ(again->size(), 1u);
    EXPECT_EQ((*again)[0], document) << relops::common::toYaml(nlohmann::ordered_json(document));
  }
}

// fuzz_yaml_json: a key was written with yaml-cpp's own quoting, which leaves "... x" or
// "--- x" plain at the start of a line, where it reads back as a document marker; a key
// past YAML's 1024 characters for a simple key did not read back at all.
TEST(FuzzRegression, KeysSurviveToYamlAndBack) {
  const std::vector<std::string> keys = {std::string(1100, 'k'),
                                         std::string(300, '\x1c'),
                                         std::string(129, 'a') + "\n" + std::string(129, 'b'),
                                         "...",
                                         "... more",
                                         "---",
                                         "--- x",
                                         "",
                                         "\r",
                                         "x\ny",
                                         "true",
                                         "~",
                                         "null",
                                         "- a",
                                         "? q",
                                         ": v",
                                         "#c",
                                         "a: b",
                                         "&a",
                                         "*a",
                                         " lead"};
  for (const std::string& key : keys) {
    const json document = {{key, 1}, {"z", {{key, "v"}}}};
    const auto again = relops::common::parseYamlDocuments(
        relops::common::toYaml(nlohmann::ordered_json(document)));
    ASSERT_TRUE(again.ok()) << again.error().message() << "\n"
                            << relops::common::toYaml(nlohmann::ordered_json(document));
    ASSERT_EQ(again->size(), 1u);
    EXPECT_EQ((*again)[0], document) << relops::common::toYaml(nlohmann::ordered_json(document));
  }
}

// fuzz_units: a percentage with many digits overflowed int64 (undefined behaviour) before
// the length check rejected it.
TEST(FuzzRegression, PercentWithTooManyDigitsIsRejectedWithoutOverflow) {
  EXPECT_FALSE(relops::common::Percent::parse("9666666666666666666999", "f").ok());
  EXPECT_FALSE(relops::common::Percent::parse("1.99999999999999999999999", "f").ok());
  ASSERT_TRUE(relops::common::Percent::parse("-99.999999", "f").ok());
  EXPECT_EQ(relops::common::Percent::parse("-99.999999", "f")->micros(), -99999999);
}

// fuzz_slo: `kind` (or apiVersion) that is not a string threw nlohmann's type_error out of
// parseSlo and parsePolicy, which `relops generate -f` does not catch.
TEST(FuzzRegression, KindThatIsNotAStringIsAnError) {
  const json slo = {{"apiVersion", "relops.dev/v1alpha1"}, {"kind", {{"name", "x"}}}};
  const auto parsedSlo = relops::slo::parseSlo(slo);
  ASSERT_FALSE(parsedSlo.ok());
  EXPECT_THAT(parsedSlo.error().message(), HasSubstr("no kind"));
  const json policy = {{"apiVersion", 1}, {"kind", "ErrorBudgetPolicy"}};
  EXPECT_FALSE(relops::policy::parsePolicy(policy).ok());
}

// fuzz_drill: a stored condition that is not an object, or whose type is not a string,
// threw nlohmann's type_error out of decideDrill.
TEST(FuzzRegression, MalformedStoredConditionsAreDropped) {
  const json status = {
      {"conditions",
       {"Ready", {{"type", 7}}, {{"type", "Ready"}, {"status", "True"}, {"reason", "Scheduled"}}}}};
  const relops::drill::DrillStatus parsed = relops::drill::parseDrillStatus(status);
  ASSERT_EQ(parsed.conditions.size(), 1u);
  EXPECT_EQ(parsed.conditions[0]["type"], "Ready");
  EXPECT_EQ(relops::drill::parseRunStatus(status).conditions.size(), 1u);

  const json spec = {{"schedule", "0 3 * * *"},
                     {"job", {{"template", {{"spec", json::object()}}}}}};
  relops::drill::DrillObserved observed;
  observed.name = "drill";
  observed.namespace_ = "default";
  observed.generation = 1;
  observed.status = status;
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1772960400));
  const relops::drill::DrillDesired desired = relops::drill::decideDrill(spec, observed, now);
  EXPECT_FALSE(desired.status.conditions.empty());
}

}  // namespace
