#include "app/cli/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace relops::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result runCli(std::vector<std::string_view> args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = run(args, {out, err});
  return {code, out.str(), err.str()};
}

TEST(Cli, VersionPrintsSemanticVersion) {
  const Result result = runCli({"version"});
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_THAT(result.out, MatchesRegex("relops [0-9]+\\.[0-9]+\\.[0-9]+ \\(.+\\)\n"));
  EXPECT_THAT(result.err, IsEmpty());
}

TEST(Cli, VersionAsJson) {
  const Result result = runCli({"version", "-o", "json"});
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_THAT(result.out, MatchesRegex("\\{\"version\":\"[0-9.]+\",.*\\}\n"));
}

TEST(Cli, VersionRejectsUnknownArgument) {
  const Result result = runCli({"version", "--bogus"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr("--bogus"));
}

TEST(Cli, HelpListsEveryCommand) {
  const Result result = runCli({"--help"});
  EXPECT_EQ(result.code, kExitOk);
  for (const Command& command : commands()) {
    EXPECT_THAT(result.out, HasSubstr(std::string(command.name)));
    EXPECT_THAT(result.out, HasSubstr(std::string(command.summary)));
  }
}

TEST(Cli, NoArgumentsIsUsageErrorOnStderr) {
  const Result result = runCli({});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.out, IsEmpty());
  EXPECT_THAT(result.err, HasSubstr("Usage:"));
}

TEST(Cli, UnknownCommandNamesIt) {
  const Result result = runCli({"frobnicate"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr("unknown command \"frobnicate\""));
}

TEST(Cli, SubcommandsAreChosenByTheirFirstArgument) {
  const Subcommand subcommands[] = {
      {"who", [](std::span<const std::string_view> args,
                 Streams) { return static_cast<int>(args.size()) + 10; }},
      {"schedule", [](std::span<const std::string_view>, Streams) { return 20; }}};
  std::ostringstream out;
  std::ostringstream err;
  const auto runSub = [&](std::vector<std::string_view> args) {
    out.str("");
    err.str("");
    return runSubcommand("relops oncall", "Usage: relops oncall\n", subcommands, args, {out, err});
  };
  EXPECT_EQ(runSub({"who", "-f", "x"}), 12);
  EXPECT_EQ(runSub({"schedule"}), 20);
  for (std::string_view help : {"help", "--help", "-h"}) {
    EXPECT_EQ(runSub({help}), kExitOk);
    EXPECT_EQ(out.str(), "Usage: relops oncall\n");
  }
  EXPECT_EQ(runSub({}), kExitUsage);
  EXPECT_EQ(err.str(),
            "relops oncall: a subcommand is required: who or schedule\n"
            "Run 'relops oncall --help' for usage.\n");
  EXPECT_EQ(runSub({"when"}), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("unknown subcommand \"when\" (want who or schedule)"));
}

}  // namespace
}  // namespace relops::cli
