#include "operator/runtime/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/fake_clock.h"

namespace relops::runtime {
namespace {

using nlohmann::ordered_json;
using namespace std::chrono_literals;

std::chrono::system_clock::time_point exampleTime() {
  return std::chrono::sys_days{std::chrono::year{2026} / 1 / 2} + 3h + 4min + 5s + 678ms;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> keys(const ordered_json& object) {
  std::vector<std::string> out;
  for (auto it = object.begin(); it != object.end(); ++it) out.push_back(it.key());
  return out;
}

class LogTest : public ::testing::Test {
 protected:
  Logger logger(LogFormat format, LogLevel level = LogLevel::kDebug) {
    return Logger(std::make_shared<LogSink>(out_, format, level, clock_));
  }
  testing::FakeClock clock_{exampleTime()};
  std::ostringstream out_;
};

TEST_F(LogTest, JsonLineHasCoreKeysFirstThenFieldsInOrder) {
  Logger log =
      logger(LogFormat::kJson).named("slo").with({{"controller", "slo"}, {"namespace", "team-a"}});
  log.info("reconciled",
           {{"name", "checkout"}, {"requeueAfter", 60}, {"ratio", 0.5}, {"changed", false}});

  const auto written = lines(out_.str());
  ASSERT_EQ(written.size(), 1u);
  const ordered_json line = ordered_json::parse(written[0]);
  EXPECT_EQ(keys(line),
            (std::vector<std::string>{"level", "ts", "logger", "msg", "controller", "namespace",
                                      "name", "requeueAfter", "ratio", "changed"}));
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["ts"], "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(line["logger"], "slo");
  EXPECT_EQ(line["msg"], "reconciled");
  EXPECT_EQ(line["requeueAfter"], 60);
  EXPECT_EQ(line["ratio"], 0.5);
  EXPECT_EQ(line["changed"], false);
  EXPECT_EQ(written[0],
            R"({"level":"info","ts":"2026-01-02T03:04:05.678Z","logger":"slo","msg":"reconciled",)"
            R"("controller":"slo","namespace":"team-a","name":"checkout","requeueAfter":60,)"
            R"("ratio":0.5,"changed":false})");
}

TEST_F(LogTest, TimestampFollowsTheClockInUtcMilliseconds) {
  Logger log = logger(LogFormat::kJson);
  clock_.advance(1h + 322ms);  // 04:04:06.000
  log.warn("later");
  EXPECT_EQ(ordered_json::parse(lines(out_.str())[0])["ts"], "2026-01-02T04:04:06.000Z");
}

TEST_F(LogTest, LevelsAndFiltering) {
  Logger log = logger(LogFormat::kJson, LogLevel::kWarn);
  EXPECT_FALSE(log.enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.enabled(LogLevel::kError));
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  const auto written = lines(out_.str());
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(ordered_json::parse(written[0])["level"], "warn");
  EXPECT_EQ(ordered_json::parse(written[1])["level"], "error");
}

TEST_F(LogTest, StringsAreEscapedAndInvalidUtf8DoesNotThrow) {
  Logger log = logger(LogFormat::kJson);
  log.info("line\nwith \"quotes\" and \\", {{"path", "a\tb"}, {"raw", std::string("\xff\xfe")}});
  const auto written = lines(out_.str());
  ASSERT_EQ(written.size(), 1u);  // the newline in msg did not split the line
  const ordered_json line = ordered_json::parse(written[0]);
  EXPECT_EQ(line["msg"], "line\nwith \"quotes\" and \\");
  EXPECT_EQ(line["path"], "a\tb");
  EXPECT_EQ(line["raw"], "\xEF\xBF\xBD\xEF\xBF\xBD");  // U+FFFD twice
}

TEST_F(LogTest, CredentialLikeFieldsAreRedacted) {
  Logger log = logger(LogFormat::kJson).with({{"bearerToken", "abc123"}});
  log.info("request", {{"Authorization", "Bearer abc123"},
                       {"client_password", "hunter2"},
                       {"secretKey", "s3cr3t"},
                       {"api-key", "k"},
                       {"x-api-key", "k"},
                       {"name", "token-reviewer"}});
  const std::string text = out_.str();
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("abc123")));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("hunter2")));
  const ordered_json line = ordered_json::parse(lines(text)[0]);
  for (const char* key :
       {"bearerToken", "Authorization", "client_password", "secretKey", "api-key", "x-api-key"}) {
    EXPECT_EQ(line[key], "[redacted]") << key;
  }
  EXPECT_EQ(line["name"], "token-reviewer");  // only keys decide, not values
  EXPECT_TRUE(isSensitiveLogKey("TOKEN"));
  EXPECT_FALSE(isSensitiveLogKey("namespace"));
}

TEST_F(LogTest, ReservedAndDuplicateKeysCannotClobberTheLine) {
  Logger log = logger(LogFormat::kJson).with({{"name", "first"}});
  log.info("real message", {{"msg", "fake"}, {"level", "fake"}, {"name", "second"}});
  const ordered_json line = ordered_json::parse(lines(out_.str())[0]);
  EXPECT_EQ(line["msg"], "real message");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["msg_"], "fake");
  EXPECT_EQ(line["level_"], "fake");
  EXPECT_EQ(line["name"], "second");
  EXPECT_EQ(keys(line),
            (std::vector<std::string>{"level", "ts", "logger", "msg", "name", "msg_", "level_"}));
}

TEST_F(LogTest, TextFormat) {
  Logger log = logger(LogFormat::kText).named("controller").named("slo");
  log.info("reconciled object",
           {{"namespace", "team-a"}, {"name", "a b"}, {"n", 3}, {"ok", true}, {"empty", ""}});
  logger(LogFormat::kText).error("root\nlogger", {{"token", "x"}});
  EXPECT_EQ(out_.str(),
            "2026-01-02T03:04:05.678Z INFO controller.slo reconciled object namespace=team-a "
            "name=\"a b\" n=3 ok=true empty=\"\"\n"
            "2026-01-02T03:04:05.678Z ERROR root\\nlogger token=[redacted]\n");
}

TEST_F(LogTest, LinesFromManyThreadsNeverInterleave) {
  Logger log = logger(LogFormat::kJson);
  constexpr int kThreads = 8;
  constexpr int kLines = 300;
  const std::string padding(200, 'x');  // long lines make interleaving likely if unguarded
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Logger mine = log.with({{"thread", int64_t{t}}});
      for (int i = 0; i < kLines; ++i) mine.info(padding, {{"i", i}});
    });
  }
  for (auto& thread : threads) thread.join();
  const auto written = lines(out_.str());
  ASSERT_EQ(written.size(), static_cast<size_t>(kThreads * kLines));
  std::vector<int> perThread(kThreads, 0);
  for (const auto& text : written) {
    const ordered_json line = ordered_json::parse(text);  // throws on a torn line
    EXPECT_EQ(line["msg"], padding);
    const int thread = line["thread"].get<int>();
    EXPECT_EQ(line["i"].get<int>(), perThread[static_cast<size_t>(thread)]++);
  }
}

TEST(Log, DiscardLoggerWritesNothing) {
  Logger log = discardLogger();
  EXPECT_FALSE(log.enabled(LogLevel::kError));
  log.named("x").with({{"a", 1}}).error("nothing");
}

TEST(Log, ParsesFlagValues) {
  EXPECT_EQ(parseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(parseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(parseLogLevel("verbose"), std::nullopt);
  EXPECT_EQ(parseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(parseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(parseLogFormat("yaml"), std::nullopt);
  EXPECT_EQ(toString(LogLevel::kWarn), "warn");
}

}  // namespace
}  // namespace relops::runtime
