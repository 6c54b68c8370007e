#include "app/cli/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace relops::cli
