#include "operator/runtime/write_memo.h"

#include <gtest/gtest.h>

namespace relops::runtime {
namespace {

const kube::ResourceRef kSlos{"relops.dev", "v1alpha1", "servicelevelobjectives",
                              "ServiceLevelObjective"};
const kube::ResourceRef kRules{"monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule"};
const kube::ObjectKey kKey{"shop", "checkout"};

TEST(WriteMemo, TheSameWriteFromTheSameVersionIsAReplay) {
  WriteMemo memo;
  EXPECT_FALSE(memo.replay(kSlos, kKey, "status", "7", R"({"a":1})"));
  memo.wrote(kSlos, kKey, "status", "7", R"({"a":1})");

  EXPECT_TRUE(memo.replay(kSlos, kKey, "status", "7", R"({"a":1})"));
}

TEST(WriteMemo, OtherContentAnotherVersionTargetOrObjectIsNot) {
  WriteMemo memo;
  memo.wrote(kSlos, kKey, "status", "7", R"({"a":1})");

  EXPECT_FALSE(memo.replay(kSlos, kKey, "status", "7", R"({"a":2})"));
  EXPECT_FALSE(memo.replay(kSlos, kKey, "status", "8", R"({"a":1})"));
  EXPECT_FALSE(memo.replay(kSlos, kKey, "apply", "7", R"({"a":1})"));
  EXPECT_FALSE(memo.replay(kRules, kKey, "status", "7", R"({"a":1})"));
  EXPECT_FALSE(memo.replay(kSlos, {"shop", "cart"}, "status", "7", R"({"a":1})"));
  EXPECT_FALSE(memo.replay(kSlos, {"other", "checkout"}, "status", "7", R"({"a":1})"));
}

// A child created from "not cached": until its event arrives, creating it again is a
// replay; after the event (and a deletion, which is another event) it is not.
TEST(WriteMemo, AnEventForTheObjectEndsItsEntries) {
  WriteMemo memo;
  memo.wrote(kRules, kKey, "apply", "", "rules");
  memo.wrote(kRules, kKey, "status", "", "s");
  ASSERT_TRUE(memo.replay(kRules, kKey, "apply", "", "rules"));
  EXPECT_EQ(memo.size(), 1u);

  memo.forget(kRules, kKey);

  EXPECT_FALSE(memo.replay(kRules, kKey, "apply", "", "rules"));
  EXPECT_FALSE(memo.replay(kRules, kKey, "status", "", "s"));
  EXPECT_EQ(memo.size(), 0u);
}

TEST(WriteMemo, ForgettingOneObjectKeepsTheOthers) {
  WriteMemo memo;
  memo.wrote(kSlos, kKey, "status", "7", "x");
  memo.wrote(kSlos, {"shop", "cart"}, "status", "9", "y");

  memo.forget(kSlos, {"shop", "cart"});

  EXPECT_TRUE(memo.replay(kSlos, kKey, "status", "7", "x"));
  EXPECT_FALSE(memo.replay(kSlos, {"shop", "cart"}, "status", "9", "y"));
}

}  // namespace
}  // namespace relops::runtime
