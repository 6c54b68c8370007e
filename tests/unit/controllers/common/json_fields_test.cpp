// The shared field reader (controllers/common/json_fields.h): what each kind's parser relies
// on, the JSON path in every error.
#include "controllers/common/json_fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace relops::common {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(JsonObject, AnIntWithinItsBoundsIsRead) {
  const json spec = {{"limit", 10}};
  auto fields = JsonObject::at(&spec, "spec");
  ASSERT_TRUE(fields.ok());
  auto limit = fields->optionalInt("limit", 10, 100);
  ASSERT_TRUE(limit.ok());
  EXPECT_EQ(*limit, std::optional<int64_t>(10));
}

TEST(JsonObject, AnIntOutsideItsBoundsNamesThePathAndTheRange) {
  const json spec = {{"limit", 101}};
  auto fields = JsonObject::at(&spec, "spec");
  ASSERT_TRUE(fields.ok());
  auto limit = fields->optionalInt("limit", 0, 100);
  ASSERT_FALSE(limit.ok());
  EXPECT_EQ(limit.error().kind(), base::ErrorKind::kConfig);
  EXPECT_EQ(limit.error().message(), "spec.limit: must be between 0 and 100");
}

TEST(JsonObject, ABoundedIntMayBeAbsentButNotOfAnotherType) {
  const json spec = {{"limit", "5"}};
  auto fields = JsonObject::at(&spec, "spec");
  ASSERT_TRUE(fields.ok());
  auto absent = fields->optionalInt("other", 0, 100);
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(*absent, std::nullopt);
  auto wrongType = fields->optionalInt("limit", 0, 100);
  ASSERT_FALSE(wrongType.ok());
  EXPECT_THAT(wrongType.error().message(), HasSubstr("spec.limit: must be an integer"));
}

TEST(JsonObject, AMissingRequiredStringSaysSo) {
  const json spec = {{"empty", ""}};
  auto fields = JsonObject::at(&spec, "spec");
  ASSERT_TRUE(fields.ok());
  auto missing = fields->requiredString("schedule");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "spec.schedule: required field is missing");
  auto empty = fields->requiredString("empty");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message(), "spec.empty: required field is missing");
}

}  // namespace
}  // namespace relops::common
