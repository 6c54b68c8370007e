// Feed URLs: the token derivation, the path forms the calendar listener
// accepts, and the key file.
#include "controllers/oncall/calendar_feed.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace relops::oncall {
namespace {

const std::string kSecret(32, 'k');

FeedKey key(const std::string& secret = kSecret) {
  auto loaded = FeedKey::fromSecret(secret);
  EXPECT_TRUE(loaded.ok());
  return *loaded;
}

TEST(FeedToken, IsAnHmacOfNamespaceNameAndUid) {
  const FeedKey feedKey = key();
  const kube::ObjectKey rotation{"team-a", "primary"};
  const std::string token = feedKey.token(rotation, "uid-1");
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token, feedKey.token(rotation, "uid-1"));  // every replica, every restart
  // Differs for another namespace, name, UID (a recreated rotation) or key.
  EXPECT_NE(token, feedKey.token({"team-b", "primary"}, "uid-1"));
  EXPECT_NE(token, feedKey.token({"team-a", "secondary"}, "uid-1"));
  EXPECT_NE(token, feedKey.token(rotation, "uid-2"));
  EXPECT_NE(token, key(std::string(32, 'j')).token(rotation, "uid-1"));
  EXPECT_EQ(feedPath(rotation, token), "/calendars/team-a/primary/" + token + ".ics");
}

TEST(FeedKey, TooShortIsRefusedAndTrailingNewlineIgnored) {
  EXPECT_EQ(FeedKey::fromSecret("short").error().kind(), base::ErrorKind::kConfig);
  EXPECT_EQ(FeedKey::fromSecret(std::string(31, 'k') + "\n").error().kind(),
            base::ErrorKind::kConfig);
  relops::testing::TempDir dir;
  const std::string path = dir.write("key", kSecret + "\n");
  auto loaded = FeedKey::load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->token({"a", "b"}, "u"), key().token({"a", "b"}, "u"));
  EXPECT_EQ(FeedKey::load(dir.file("missing")).error().kind(), base::ErrorKind::kConfig);
}

TEST(FeedPath, ParsesTheTwoFormsOnly) {
  const std::string token(64, 'f');
  struct Case {
    const char* name;
    std::string path;
    std::optional<FeedRequest> want;
  };
  const Case cases[] = {
      {"token form", "/calendars/team-a/primary/" + token + ".ics",
       FeedRequest{{"team-a", "primary"}, token}},
      {"bearer form", "/calendars/team-a/primary.ics", FeedRequest{{"team-a", "primary"}, ""}},
      {"dotted name", "/calendars/team-a/on.call.ics", FeedRequest{{"team-a", "on.call"}, ""}},
      {"short token", "/calendars/team-a/primary/abc.ics", std::nullopt},
      {"uppercase token", "/calendars/team-a/primary/" + std::string(64, 'F') + ".ics",
       std::nullopt},
      {"no extension", "/calendars/team-a/primary", std::nullopt},
      {"traversal", "/calendars/../primary.ics", std::nullopt},
      {"empty namespace", "/calendars//primary.ics", std::nullopt},
      {"too deep", "/calendars/a/b/c/" + token + ".ics", std::nullopt},
      {"only namespace", "/calendars/team-a.ics", std::nullopt},
      {"uppercase name", "/calendars/team-a/Primary.ics", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(parseFeedPath(c.path), c.want) << c.name;
}

TEST(FeedToken, ComparisonIsExact) {
  EXPECT_TRUE(tokensEqual("abc", "abc"));
  EXPECT_FALSE(tokensEqual("abc", "abd"));
  EXPECT_FALSE(tokensEqual("abc", "ab"));
  EXPECT_FALSE(tokensEqual("", "a"));
}

}  // namespace
}  // namespace relops::oncall
