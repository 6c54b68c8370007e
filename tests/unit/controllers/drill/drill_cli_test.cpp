// `relops drill next`: the schedule offline, with run names, and errors that
// name the file and field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "app/cli/cli.h"

namespace relops::cli {
namespace {

using ::testing::HasSubstr;

struct Output {
  int code;
  std::string out;
  std::string err;
};

Output relops(std::vector<std::string_view> args) {
  std::ostringstream out, err;
  const int code = run(args, Streams{out, err});
  return {code, out.str(), err.str()};
}

const std::string kExamples = std::string(RELOPS_SOURCE_DIR) + "/crds/examples/";

TEST(DrillCli, NextPrintsLocalAndUtcTimesAndRunNames) {
  const std::string file = kExamples + "drdrill-job.yaml";
  const Output result =
      relops({"drill", "next", "-f", file, "-n", "3", "--from", "2026-03-28T00:00:00Z"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out,
            "Drill:     orders-db-restore\n"
            "Schedule:  30 2 * * * (Europe/Berlin)\n\n"
            "LOCAL                   UTC                    RUN\n"
            "2026-03-28 02:30 CET    2026-03-28T01:30:00Z   orders-db-restore-29577690\n"
            // 02:30 does not exist on 29 March in Berlin: the first valid instant.
            "2026-03-29 03:00 CEST   2026-03-29T01:00:00Z   orders-db-restore-29579100\n"
            "2026-03-30 02:30 CEST   2026-03-30T00:30:00Z   orders-db-restore-29580510\n");
}

TEST(DrillCli, NextAsJson) {
  const std::string file = kExamples + "drdrill-velero.yaml";
  const Output result = relops(
      {"drill", "next", "-f", file, "-n", "2", "--from", "2026-01-15T00:00:00Z", "-o", "json"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"time\": \"2026-02-01T00:00:00Z\""));
  EXPECT_THAT(result.out, HasSubstr("\"time\": \"2026-03-01T00:00:00Z\""));
  EXPECT_THAT(result.out, HasSubstr("\"run\": \"shop-restore-"));
}

TEST(DrillCli, BadInputNamesFileAndField) {
  const Output missing = relops({"drill", "next", "-f", "/nonexistent.yaml"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent.yaml: cannot read the file"));
  const Output usage = relops({"drill", "next"});
  EXPECT_EQ(usage.code, 64);
  EXPECT_THAT(usage.err, HasSubstr("-f FILE is required"));
  const Output count = relops({"drill", "next", "-f", "x", "-n", "0"});
  EXPECT_EQ(count.code, 64);
  EXPECT_THAT(count.err, HasSubstr("-n must be a number from 1 to 1000"));
  const Output report = relops({"drill", "report", "--format", "pdf", "-n", "x"});
  EXPECT_EQ(report.code, 64);
  EXPECT_THAT(report.err, HasSubstr("--format must be md or json"));
  const Output noNamespace = relops({"drill", "report"});
  EXPECT_EQ(noNamespace.code, 64);
  EXPECT_THAT(noNamespace.err, HasSubstr("-n NAMESPACE is required"));
  const Output unknown = relops({"drill", "frobnicate"});
  EXPECT_EQ(unknown.code, 64);
}

}  // namespace
}  // namespace relops::cli
