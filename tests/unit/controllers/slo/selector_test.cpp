#include "controllers/slo/selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace relops::slo {
namespace {

using ::testing::HasSubstr;

TEST(Selector, ParsesMetricAndMatchers) {
  auto selector =
      Selector::parse(R"(http_requests_total{ job = "api", code=~"5..", path!="/a\"b" ,})", "f");
  ASSERT_TRUE(selector) << selector.error().message();
  EXPECT_EQ(selector->metric(), "http_requests_total");
  ASSERT_EQ(selector->matchers().size(), 3u);
  EXPECT_EQ(selector->matchers()[1].op, "=~");
  EXPECT_EQ(selector->promql(), R"(http_requests_total{job="api",code=~"5..",path!="/a\"b"})");
  EXPECT_EQ(Selector::parse("up", "f")->promql(), "up");
  EXPECT_EQ(Selector::parse("ns:requests:rate5m{}", "f")->promql(), "ns:requests:rate5m");
  EXPECT_EQ(selector->withMatcher({"le", "=", "0.5"}).promql(),
            R"(http_requests_total{job="api",code=~"5..",path!="/a\"b",le="0.5"})");
}

TEST(Selector, RejectsFunctionsRangesAndBrokenMatchers) {
  for (const char* text : {"", "rate(x[5m])", "x[5m]", "x{a=b}", "x{a=\"b\"", "x{=\"b\"}",
                           "x{a==\"b\"}", "x{a=\"b\"} or y", "{a=\"b\"}", "x{a=\"b\" c=\"d\"}"}) {
    auto selector = Selector::parse(text, "spec.indicator.ratio.total");
    ASSERT_FALSE(selector) << text;
    EXPECT_THAT(selector.error().message(),
                HasSubstr("spec.indicator.ratio.total: invalid series selector"));
  }
}

}  // namespace
}  // namespace relops::slo
