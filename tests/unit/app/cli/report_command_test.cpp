// `relops report` before it reaches a cluster: the scope and the period are checked, and a
// mistake is a usage error that says what was expected. (Reading a cluster is e2e.report_endpoint.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli/cli.h"

namespace relops::cli {
namespace {

using ::testing::HasSubstr;

struct Case {
  const char* name;
  std::vector<std::string_view> args;
  const char* message;
};

class ReportUsage : public testing::TestWithParam<Case> {};

TEST_P(ReportUsage, IsRefusedBeforeAnyRequest) {
  const Case& c = GetParam();
  std::vector<std::string_view> args = {"report", "--kubeconfig", "/nonexistent/kubeconfig"};
  args.insert(args.end(), c.args.begin(), c.args.end());
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run(args, {out, err}), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr(c.message));
  EXPECT_EQ(out.str(), "");
}

INSTANTIATE_TEST_SUITE_P(
    Cli, ReportUsage,
    testing::Values(
        Case{"NoScope", {}, "exactly one of -n NAMESPACE and --all-namespaces"},
        Case{"BothScopes", {"-n", "a", "--all-namespaces"}, "exactly one of"},
        Case{"BadPeriod", {"-n", "a", "--period", "2026-13"}, "want a month (2026-11)"},
        Case{"PeriodAndFrom",
             {"-n", "a", "--period", "2026-11", "--from", "2026-11-01"},
             "--period excludes --from and --to"},
        Case{"FromWithoutTo", {"-n", "a", "--from", "2026-11-01"}, "--from and --to go together"},
        Case{"BadDate",
             {"-n", "a", "--from", "2026-11-31", "--to", "2026-12-01"},
             "--from: want a date"},
        Case{"TooLong", {"-A", "--from", "2020-01-01", "--to", "2026-01-01"}, "at most 400 days"},
        Case{"BadFormat", {"-n", "a", "--format", "pdf"}, "pdf"}),
    [](const testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

TEST(Cli, ReportIsListed) {
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<std::string_view> args = {"report", "--help"};
  EXPECT_EQ(run(args, {out, err}), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("relops report (-n NAMESPACE | --all-namespaces)"));
}

}  // namespace
}  // namespace relops::cli
