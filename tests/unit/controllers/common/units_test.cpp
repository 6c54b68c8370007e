#include "controllers/common/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace relops::common {
namespace {

using ::testing::HasSubstr;

TEST(Duration, ParsesOneUnitAndRendersLikePrometheus) {
  struct Case {
    const char* text;
    int64_t seconds;
    const char* canonical;
  };
  for (const Case& c : {Case{"5m", 300, "5m"}, Case{"24h", 86400, "1d"}, Case{"28d", 2419200, "4w"},
                        Case{"30d", 2592000, "4w2d"}, Case{"90m", 5400, "1h30m"},
                        Case{"2w", 1209600, "2w"}, Case{"45s", 45, "45s"}}) {
    auto duration = Duration::parse(c.text, "f");
    ASSERT_TRUE(duration) << c.text;
    EXPECT_EQ(duration->seconds(), c.seconds) << c.text;
    EXPECT_EQ(duration->canonical(), c.canonical) << c.text;
    EXPECT_EQ(duration->text(), c.text);
  }
}

TEST(Duration, RejectsWhatCelRejects) {
  for (const char* text : {"", "m", "5", "0m", "1h30m", "5y", "-5m", "5 m", "1.5h"}) {
    auto duration = Duration::parse(text, "spec.window");
    ASSERT_FALSE(duration) << text;
    EXPECT_EQ(duration.error().kind(), base::ErrorKind::kConfig);
    EXPECT_THAT(duration.error().message(), HasSubstr("spec.window"));
  }
}

TEST(Percent, HoldsDecimalsExactly) {
  struct Case {
    const char* text;
    int64_t micros;
    const char* complement;
  };
  for (const Case& c : {Case{"99.9", 99900000, "0.001"}, Case{"99", 99000000, "0.01"},
                        Case{"99.95", 99950000, "0.0005"},
                        Case{"99.999999", 99999999, "0.00000001"}, Case{"0.5", 500000, "0.995"},
                        Case{"-25", -25000000, "1.25"}, Case{"100", 100000000, "0"}}) {
    auto percent = Percent::parse(c.text, "f");
    ASSERT_TRUE(percent) << c.text;
    EXPECT_EQ(percent->micros(), c.micros) << c.text;
    EXPECT_EQ(percent->complementFractionText(), c.complement) << c.text;
  }
  for (const char* text : {"", ".5", "99.", "99.1234567", "9e1", "abc", "99,9", "12345"}) {
    EXPECT_FALSE(Percent::parse(text, "f")) << text;
  }
}

TEST(FormatDecimal, RoundsAndTrims) {
  EXPECT_EQ(formatDecimal(14.399999999999999, 6), "14.4");
  EXPECT_EQ(formatDecimal(0.9333333333, 6), "0.933333");
  EXPECT_EQ(formatDecimal(-20.55, 1), "-20.6");
  EXPECT_EQ(formatDecimal(-0.00001, 2), "0");
  EXPECT_EQ(formatDecimal(3.0, 2), "3");
}

}  // namespace
}  // namespace relops::common
