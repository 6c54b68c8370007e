// `relops report` before it reaches a cluster: the scope and the period are checked, and a
// mistake is a usage error that says what was expected. (Reading a cluster is e2e.report_endpoint.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli/cli.h"
#include "app/cli/input.h"
#include "tests/support/fake_client.h"

namespace relops::cli {
namespace {

using ::testing::HasSubstr;

struct Case {
  const char* name;
  std::vector<std::string_view> args;
  const char* message;
};

class ReportUsage : public ::testing::TestWithParam<Case> {};

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
    ::testing::Values(
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
    [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

TEST(Cli, ReportIsListed) {
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<std::string_view> args = {"report", "--help"};
  EXPECT_EQ(run(args, {out, err}), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("relops report (-n NAMESPACE | --all-namespaces)"));
}

const kube::ResourceRef kSlos{"relops.dev", "v1alpha1", "servicelevelobjectives",
                              "ServiceLevelObjective", true};

void addSlos(relops::testing::FakeClient& client, const std::string& ns, int count) {
  for (int i = 0; i < count; ++i) {
    client.add(kSlos, {{"apiVersion", "relops.dev/v1alpha1"},
                       {"kind", "ServiceLevelObjective"},
                       {"metadata", {{"name", "slo-" + std::to_string(i)}, {"namespace", ns}}}});
  }
}

TEST(ListAtMost, ReadsEveryPageUpToTheBound) {
  relops::testing::FakeClient client;
  addSlos(client, "a", 7);
  addSlos(client, "b", 2);
  auto items = listAtMost(client, kSlos, "a", "", 7);
  ASSERT_TRUE(items.ok()) << items.error().describe();
  EXPECT_EQ(items->size(), 7u);
  EXPECT_EQ(client.actions("list").size(), 1u);  // pages of max + 1
  auto all = listAtMost(client, kSlos, "", "", 9);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 9u);
}

TEST(ListAtMost, RefusesMoreAndStopsListing) {
  relops::testing::FakeClient client;
  addSlos(client, "a", 1200);
  auto items = listAtMost(client, kSlos, "", "", 1000);
  ASSERT_FALSE(items.ok());
  EXPECT_THAT(items.error().message(),
              HasSubstr("more than 1000 ServiceLevelObjective objects selected"));
  // One page of 500, a second of 500, the third finds the 1001st: never the whole list.
  EXPECT_EQ(client.actions("list").size(), 3u);
}

}  // namespace
}  // namespace relops::cli
