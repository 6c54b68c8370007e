// Every indicator selector of an SLO is confined to the SLO's namespace
// (prometheus-operator's enforcedNamespaceLabel): a namespace matcher the tenant wrote is
// replaced, whatever its operator, so no rule or query reads another namespace's series.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controllers/slo/rules.h"
#include "controllers/slo/selector.h"
#include "slo_builder.h"

namespace relops::slo {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::SloBuilder;

TEST(EnforcedMatcher, ReplacesOrAddsTheNamespaceMatcher) {
  struct Case {
    const char* name;
    const char* selector;
    const char* confined;
  };
  const Case cases[] = {
      {"bare metric", "http_requests_total", R"(http_requests_total{namespace="team-a"})"},
      {"empty braces", "http_requests_total{}", R"(http_requests_total{namespace="team-a"})"},
      {"other matchers kept in order", R"(reqs{job="api",code=~"5.."})",
       R"(reqs{job="api",code=~"5..",namespace="team-a"})"},
      {"another namespace is replaced", R"(reqs{namespace="team-b",job="api"})",
       R"(reqs{job="api",namespace="team-a"})"},
      {"a namespace regex is replaced", R"(reqs{namespace=~"team-.*"})",
       R"(reqs{namespace="team-a"})"},
      {"a negative namespace matcher is replaced", R"(reqs{namespace!="team-a"})",
       R"(reqs{namespace="team-a"})"},
      {"a negative regex is replaced", R"(reqs{namespace!~"x"})", R"(reqs{namespace="team-a"})"},
      {"every namespace matcher goes", R"(reqs{namespace="team-b",namespace=~".+"})",
       R"(reqs{namespace="team-a"})"},
      {"quoted braces and commas stay inside their value", R"(reqs{path="/a{b},c}",job="x"})",
       R"(reqs{path="/a{b},c}",job="x",namespace="team-a"})"},
      {"an escaped quote in a value", R"(reqs{path="a\",namespace=\"team-b"})",
       R"(reqs{path="a\",namespace=\"team-b",namespace="team-a"})"},
      {"a label that only ends in namespace is kept", R"(reqs{exported_namespace="team-b"})",
       R"(reqs{exported_namespace="team-b",namespace="team-a"})"},
      {"recording-rule name with colons", "job:reqs:rate5m",
       R"(job:reqs:rate5m{namespace="team-a"})"},
      {"spaces around matchers", R"(reqs{ namespace = "team-b" , job = "x" })",
       R"(reqs{job="x",namespace="team-a"})"},
  };
  for (const Case& c : cases) {
    auto selector = Selector::parse(c.selector, "total");
    ASSERT_TRUE(selector) << c.name << ": " << selector.error().message();
    EXPECT_EQ(selector->withEnforcedMatcher("namespace", "team-a").promql(), c.confined) << c.name;
  }
}

// The indicator does not accept functions, ranges or offsets: wrapping is relops's job, so
// there is no selector hidden inside an expression that confinement could miss.
TEST(EnforcedMatcher, ExpressionsAreRefusedBeforeConfinement) {
  for (const char* text :
       {R"(rate(reqs{job="x"}[5m]))", R"(reqs{job="x"} offset 1h)", R"(reqs{job="x"}[5m])",
        R"(sum(reqs) or other{namespace="b"})", R"({__name__="reqs",namespace="team-b"})"}) {
    EXPECT_FALSE(Selector::parse(text, "total")) << text;
  }
}

TEST(ConfinedToNamespace, EverySelectorOfEveryIndicator) {
  const Duration fiveMinutes = *Duration::parse("5m", "f");
  struct Case {
    const char* name;
    SloBuilder builder;
    const char* expr;
  };
  const Case cases[] = {
      {"ratio errors, another namespace named",
       SloBuilder().ratioErrors(R"(errs{namespace="team-b"})", "reqs"),
       R"((sum(rate(errs{namespace="shop"}[5m])) or 0 * sum(rate(reqs{namespace="shop"}[5m]))) / sum(rate(reqs{namespace="shop"}[5m])))"},
      {"ratio good", SloBuilder().ratioGood("ok", R"(reqs{namespace=~".*"})"),
       R"(1 - ((sum(rate(ok{namespace="shop"}[5m])) or 0 * sum(rate(reqs{namespace="shop"}[5m]))) / sum(rate(reqs{namespace="shop"}[5m]))))"},
      {"latency", SloBuilder().latency(R"(d_bucket{job="x"})", "0.25", "d_count"),
       R"(1 - ((sum(rate(d_bucket{job="x",namespace="shop",le="0.25"}[5m])) or 0 * sum(rate(d_count{namespace="shop"}[5m]))) / sum(rate(d_count{namespace="shop"}[5m]))))"},
      {"workload has no PromQL", SloBuilder().workload("Deployment", "web"), ""},
  };
  for (const Case& c : cases) {
    const ServiceLevelObjective confined = confinedToNamespace(c.builder.build());
    EXPECT_EQ(errorRatioExpr(confined.spec, fiveMinutes), c.expr) << c.name;
  }
}

TEST(ConfinedToNamespace, ReachesEveryGeneratedRule) {
  const auto generated = generateRules(confinedToNamespace(
      SloBuilder()
          .ratioErrors(R"(errs{namespace="team-b"})", R"(reqs{namespace="team-b"})")
          .build()));
  ASSERT_TRUE(generated);
  for (const Rule& rule : generated->groups[0].rules) {
    EXPECT_THAT(rule.expr, Not(HasSubstr("team-b"))) << rule.record << rule.alert;
    if (!rule.record.empty() || rule.alert == kAbsentAlert) {
      EXPECT_THAT(rule.expr, HasSubstr(R"(namespace="shop")")) << rule.record << rule.alert;
    }
  }
}

TEST(ConfinedToNamespace, LeavesTheOriginalAlone) {
  const ServiceLevelObjective slo = SloBuilder().ratioErrors("errs", "reqs").build();
  (void)confinedToNamespace(slo);
  EXPECT_EQ(std::get<RatioIndicator>(slo.spec.indicator).total.promql(), "reqs");
}

}  // namespace
}  // namespace relops::slo
