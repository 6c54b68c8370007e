#include "operator/kube/watch_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/api_error.h"

namespace relops::kube {
namespace {

using base::ErrorKind;
using ::testing::HasSubstr;

const std::string kAdded =
    R"({"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"10"},"data":{"k":"v\n"}}})";
const std::string kModified =
    R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"11"}}})";
const std::string kDeleted =
    R"({"type":"DELETED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"12"}}})";
const std::string kBookmark =
    R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"13"}}})";
const std::string kError =
    R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (297)","reason":"Expired","code":410}})json";

std::vector<WatchEvent> unwrap(std::vector<Result<WatchEvent>> results) {
  std::vector<WatchEvent> events;
  for (Result<WatchEvent>& result : results) {
    EXPECT_TRUE(result.ok()) << result.error().message();
    if (result.ok()) events.push_back(std::move(result).value());
  }
  return events;
}

TEST(WatchStreamParserTest, MapsEveryEventType) {
  WatchStreamParser parser;
  const std::vector<WatchEvent> events = unwrap(parser.feed(
      kAdded + "\n" + kModified + "\n" + kDeleted + "\n" + kBookmark + "\n" + kError + "\n"));
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[0].object["data"]["k"], "v\n");  // an escaped newline is not a line break
  EXPECT_EQ(events[1].type, WatchEventType::kModified);
  EXPECT_EQ(events[2].type, WatchEventType::kDeleted);
  EXPECT_EQ(events[3].type, WatchEventType::kBookmark);
  EXPECT_EQ(events[3].object["metadata"]["resourceVersion"], "13");
  EXPECT_EQ(events[4].type, WatchEventType::kError);
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(WatchStreamParserTest, ErrorEventCarriesAStatusThatMapsToGone) {
  WatchStreamParser parser;
  const std::vector<WatchEvent> events = unwrap(parser.feed(kError + "\n"));
  ASSERT_EQ(events.size(), 1u);
  const base::Error error = errorFromStatus(events[0].object);
  EXPECT_EQ(error.kind(), ErrorKind::kGone);
  EXPECT_EQ(error.reason(), "Expired");
  EXPECT_EQ(error.httpStatus(), 410);
  EXPECT_THAT(error.message(), HasSubstr("too old resource version"));
}

TEST(WatchStreamParserTest, SplitAtEveryByteBoundary) {
  const std::string stream =
      kAdded + "\n" + kModified + "\n\n" + kBookmark + "\r\n" + kError + "\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchStreamParser parser;
    std::vector<WatchEvent> events = unwrap(parser.feed(stream.substr(0, cut)));
    for (WatchEvent& event : unwrap(parser.feed(stream.substr(cut)))) {
      events.push_back(std::move(event));
    }
    ASSERT_EQ(events.size(), 4u) << "cut at " << cut;
    EXPECT_EQ(events[0].type, WatchEventType::kAdded);
    EXPECT_EQ(events[1].type, WatchEventType::kModified);
    EXPECT_EQ(events[2].type, WatchEventType::kBookmark);
    EXPECT_EQ(events[3].type, WatchEventType::kError);
  }
}

TEST(WatchStreamParserTest, OneByteAtATime) {
  const std::string stream = kAdded + "\n" + kDeleted + "\n";
  WatchStreamParser parser;
  std::vector<WatchEvent> events;
  for (const char c : stream) {
    for (WatchEvent& event : unwrap(parser.feed(std::string_view(&c, 1)))) {
      events.push_back(std::move(event));
    }
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, WatchEventType::kDeleted);
}

TEST(WatchStreamParserTest, TwentyMebibyteObjectInSmallChunks) {
  const std::string big(20 * 1024 * 1024, 'x');
  const std::string line =
      R"({"type":"MODIFIED","object":{"metadata":{"name":"big"},"data":{"blob":")" + big +
      R"("}}})" + "\n" + kBookmark + "\n";
  WatchStreamParser parser;
  std::vector<WatchEvent> events;
  constexpr size_t kChunk = 4096;
  for (size_t offset = 0; offset < line.size(); offset += kChunk) {
    for (WatchEvent& event : unwrap(parser.feed(std::string_view(line).substr(offset, kChunk)))) {
      events.push_back(std::move(event));
    }
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].object["data"]["blob"].get_ref<const std::string&>().size(), big.size());
  EXPECT_EQ(events[1].type, WatchEventType::kBookmark);
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(WatchStreamParserTest, GarbageLinesBecomeErrorsAndParsingContinues) {
  WatchStreamParser parser;
  const std::string stream = "this is not json\n" + kAdded + "\n" +
                             R"({"type":"EXPLODED","object":{}})" + "\n" + R"({"type":"ADDED"})" +
                             "\n" + R"([1,2,3])" + "\n" + R"({"type":"ADDED","object":{"trunc)" +
                             "\n" + kDeleted + "\n" + std::string("\x00\xff\xfe", 3) + "\n";
  std::vector<Result<WatchEvent>> results = parser.feed(stream);
  ASSERT_EQ(results.size(), 8u);
  EXPECT_FALSE(results[0].ok());
  EXPECT_THAT(results[0].error().message(), HasSubstr("invalid JSON"));
  EXPECT_THAT(results[0].error().message(), HasSubstr("this is not json"));
  ASSERT_TRUE(results[1].ok());
  EXPECT_EQ(results[1]->type, WatchEventType::kAdded);
  EXPECT_THAT(results[2].error().message(), HasSubstr("unknown event type \"EXPLODED\""));
  EXPECT_THAT(results[3].error().message(), HasSubstr("no object"));
  EXPECT_THAT(results[4].error().message(), HasSubstr("not a JSON object"));
  EXPECT_FALSE(results[5].ok());
  ASSERT_TRUE(results[6].ok());
  EXPECT_EQ(results[6]->type, WatchEventType::kDeleted);
  EXPECT_FALSE(results[7].ok());
  for (const Result<WatchEvent>& result : results) {
    if (!result.ok()) {
      EXPECT_EQ(result.error().kind(), ErrorKind::kTransient);
    }
  }
}

TEST(WatchStreamParserTest, GarbageLineExcerptIsBounded) {
  WatchStreamParser parser;
  const std::vector<Result<WatchEvent>> results = parser.feed(std::string(100000, '{') + "\n");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_LT(results[0].error().message().size(), 300u);
}

TEST(WatchStreamParserTest, FinishParsesALastLineWithoutNewline) {
  WatchStreamParser parser;
  EXPECT_TRUE(parser.feed(kAdded + "\n" + kError).size() == 1);
  EXPECT_EQ(parser.buffered(), kError.size());
  std::vector<WatchEvent> rest = unwrap(parser.finish());
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].type, WatchEventType::kError);
  EXPECT_TRUE(parser.finish().empty());
}

TEST(WatchStreamParserTest, TypeNames) {
  for (const auto type :
       {WatchEventType::kAdded, WatchEventType::kModified, WatchEventType::kDeleted,
        WatchEventType::kBookmark, WatchEventType::kError}) {
    EXPECT_EQ(parseWatchEventType(toString(type)), type);
  }
  EXPECT_FALSE(parseWatchEventType("added").has_value());
}

}  // namespace
}  // namespace relops::kube
