#include "operator/cli/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace relops::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

base::Result<void> parse(FlagSet& set, std::vector<std::string_view> args) {
  return set.parse(args);
}

std::string errorOf(FlagSet& set, std::vector<std::string_view> args) {
  const base::Result<void> parsed = set.parse(args);
  return parsed.ok() ? "" : parsed.error().message();
}

TEST(FlagSet, LongFlagTakesItsValueAfterEqualsOrAsTheNextArgument) {
  std::string context;
  int workers = 2;
  FlagSet set("relops run");
  set.addString("context", &context, "");
  set.addInt("workers", &workers, "");
  ASSERT_TRUE(parse(set, {"--context=kind", "--workers", "4"}));
  EXPECT_EQ(context, "kind");
  EXPECT_EQ(workers, 4);
}

TEST(FlagSet, ShorthandTakesItsValueSeparateAttachedOrAfterEquals) {
  for (const std::vector<std::string_view>& args : {std::vector<std::string_view>{"-o", "json"},
                                                    {"-ojson"},
                                                    {"-o=json"},
                                                    {"--output", "json"},
                                                    {"--output=json"}}) {
    std::string output;
    FlagSet set("relops version");
    set.addString("output", &output, "").shorthand('o');
    ASSERT_TRUE(set.parse(args)) << args.front();
    EXPECT_EQ(output, "json") << args.front();
  }
}

TEST(FlagSet, AValueMayLookLikeAFlagOrBeStandardInput) {
  std::string file;
  FlagSet set("relops generate");
  set.addString("filename", &file, "").shorthand('f');
  ASSERT_TRUE(parse(set, {"-f", "-"}));
  EXPECT_EQ(file, "-");
}

TEST(FlagSet, BoolIsTrueAloneAndTakesAnExplicitValueOnlyAfterEquals) {
  bool secure = true;
  bool elect = false;
  std::string positional;
  FlagSet set("relops run");
  set.addBool("metrics-secure", &secure, "");
  set.addBool("leader-elect", &elect, "").shorthand('e');
  set.addPositional("NAME", &positional, "");
  ASSERT_TRUE(parse(set, {"--metrics-secure=false", "-e", "true"}));
  EXPECT_FALSE(secure);
  EXPECT_TRUE(elect);
  EXPECT_EQ(positional, "true");  // a bool never takes the next argument
  EXPECT_THAT(errorOf(set, {"--metrics-secure=no"}),
              HasSubstr("relops run: --metrics-secure: \"no\" is not true or false"));
  ASSERT_TRUE(parse(set, {"-e=false"}));
  EXPECT_FALSE(elect);
}

TEST(FlagSet, EnumAcceptsOnlyItsValues) {
  std::string format = "md";
  FlagSet set("relops drill report");
  set.addEnum("format", &format, {"md", "json"}, "").shorthand('o');
  ASSERT_TRUE(parse(set, {"-o", "json"}));
  EXPECT_EQ(format, "json");
  EXPECT_EQ(errorOf(set, {"--format", "pdf"}),
            "relops drill report: --format must be md or json, got \"pdf\"");
  EXPECT_EQ(errorOf(set, {"-o=pdf"}), "relops drill report: -o must be md or json, got \"pdf\"");
  EXPECT_EQ(format, "json");
}

TEST(FlagSet, StringsSplitCommasButStringArrayKeepsEachValueWhole) {
  std::vector<std::string> namespaces;
  std::vector<std::string> files;
  FlagSet set("relops");
  set.addStrings("watch-namespace", &namespaces, "");
  set.addStringArray("filename", &files, "").shorthand('f');
  ASSERT_TRUE(parse(set, {"--watch-namespace=a,b", "--watch-namespace", "c", "-f", "x,y.yaml",
                          "--filename=z.yaml"}));
  EXPECT_THAT(namespaces, ElementsAre("a", "b", "c"));
  EXPECT_THAT(files, ElementsAre("x,y.yaml", "z.yaml"));
  EXPECT_EQ(errorOf(set, {"-f="}), "relops: -f must not be empty");
}

TEST(FlagSet, PositionalArgumentsFillInOrderBetweenFlags) {
  std::string name;
  std::string namespace_;
  FlagSet set("relops drill report");
  set.addString("namespace", &namespace_, "").shorthand('n');
  set.addPositional("NAME", &name, "");
  ASSERT_TRUE(parse(set, {"nightly", "-n", "shop"}));
  EXPECT_EQ(name, "nightly");
  EXPECT_EQ(namespace_, "shop");
  EXPECT_EQ(errorOf(set, {"a", "b"}), "relops drill report: unexpected argument \"b\"");
}

TEST(FlagSet, AfterDoubleDashEveryArgumentIsPositional) {
  std::string name;
  bool force = false;
  FlagSet set("relops");
  set.addBool("force", &force, "");
  set.addPositional("NAME", &name, "");
  ASSERT_TRUE(parse(set, {"--", "--force"}));
  EXPECT_EQ(name, "--force");
  EXPECT_FALSE(force);
}

TEST(FlagSet, RequiredFlagsAndArgumentsAreNamedWhenMissing) {
  std::string file;
  std::string from;
  std::string name;
  FlagSet set("relops oncall schedule");
  set.addString("filename", &file, "").shorthand('f').valueName("FILE").required();
  set.addString("from", &from, "").valueName("TIME").required();
  EXPECT_EQ(errorOf(set, {}), "relops oncall schedule: -f FILE is required");
  EXPECT_EQ(errorOf(set, {"-f="}), "relops oncall schedule: -f FILE is required");
  EXPECT_EQ(errorOf(set, {"-f", "x"}), "relops oncall schedule: --from TIME is required");
  set.addPositional("NAME", &name, "").required();
  EXPECT_EQ(errorOf(set, {"-f", "x", "--from", "now"}), "relops oncall schedule: NAME is required");
}

TEST(FlagSet, HelpSkipsTheRequiredCheck) {
  std::string file;
  FlagSet set("relops generate");
  set.addString("filename", &file, "").shorthand('f').required();
  ASSERT_TRUE(parse(set, {"-h"}));
  EXPECT_TRUE(set.helpRequested());
}

TEST(FlagSet, ErrorsNameTheFlagAsTyped) {
  int count = 5;
  FlagSet set("relops drill next");
  set.addInt("count", &count, "").shorthand('n');
  EXPECT_EQ(errorOf(set, {"-n", "x"}), "relops drill next: -n: \"x\" is not a number");
  EXPECT_EQ(errorOf(set, {"--count=x"}), "relops drill next: --count: \"x\" is not a number");
  EXPECT_EQ(errorOf(set, {"-n"}), "relops drill next: flag -n needs a value");
  EXPECT_EQ(errorOf(set, {"--bogus"}), "relops drill next: unknown flag --bogus");
  EXPECT_EQ(errorOf(set, {"-x"}), "relops drill next: unknown flag -x");
  EXPECT_EQ(errorOf(set, {"stray"}), "relops drill next: unexpected argument \"stray\"");
}

TEST(FlagSet, DurationsAndDefaultsInUsage) {
  std::chrono::milliseconds lease{15'000};
  double qps = 50;
  std::string format = "table";
  std::string file;
  std::string name;
  FlagSet set("relops");
  set.addDuration("lease-duration", &lease, "How long a lease is valid");
  set.addDouble("kube-api-qps", &qps, "Requests per second");
  set.addEnum("format", &format, {"table", "json"}, "How to print\nthe schedule").shorthand('o');
  set.addString("filename", &file, "A file").shorthand('f').valueName("FILE");
  set.addPositional("NAME", &name, "One drill");
  std::ostringstream usage;
  set.printUsage(usage);
  EXPECT_EQ(usage.str(),
            "Arguments:\n"
            "  NAME\n        One drill\n\n"
            "Flags:\n"
            "      --lease-duration value\n        How long a lease is valid (default 15s)\n"
            "      --kube-api-qps value\n        Requests per second (default 50)\n"
            "  -o, --format table|json\n        How to print\n        the schedule (default "
            "table)\n"
            "  -f, --filename FILE\n        A file\n");
  ASSERT_TRUE(parse(set, {"--lease-duration=500ms"}));
  EXPECT_EQ(lease, std::chrono::milliseconds(500));
  EXPECT_THAT(errorOf(set, {"--lease-duration=5"}), HasSubstr("is not a duration"));
}

TEST(FlagSet, ParseOrExitPrintsHelpOrTheUsageErrorAndSaysHowToEnd) {
  std::string file;
  FlagSet set("relops drill next");
  set.addString("filename", &file, "A file").shorthand('f').required();
  std::ostringstream out;
  std::ostringstream err;
  const auto parse = [&](std::vector<std::string_view> args) {
    out.str("");
    err.str("");
    return set.parseOrExit(args, {out, err}, "Usage:\n  relops drill next\n", "The end.\n");
  };
  EXPECT_EQ(parse({"-f", "x"}), std::nullopt);
  EXPECT_EQ(parse({"--help"}), kExitOk);
  EXPECT_EQ(out.str(),
            "Usage:\n  relops drill next\n\nFlags:\n  -f, --filename value\n        A file\n"
            "The end.\n");
  EXPECT_EQ(parse({}), kExitUsage);
  EXPECT_EQ(err.str(),
            "relops drill next: -f value is required\n"
            "Run 'relops drill next --help' for usage.\n");
  EXPECT_EQ(out.str(), "");
}

TEST(JoinAlternatives, ReadsAsAChoice) {
  EXPECT_EQ(joinAlternatives(std::vector<std::string>{"json"}), "json");
  EXPECT_EQ(joinAlternatives(std::vector<std::string>{"md", "json"}), "md or json");
  EXPECT_EQ(joinAlternatives(std::vector<std::string>{"a", "b", "c"}), "a, b or c");
}

TEST(FlagSet, AFlagAddedTwiceIsAProgrammingError) {
  FlagSet set("relops run");
  std::string first;
  std::string second;
  set.addString("velero-namespace", &first, "one kind's");
  EXPECT_THROW(set.addString("velero-namespace", &second, "another kind's"), std::logic_error);
}

}  // namespace
}  // namespace relops::cli
