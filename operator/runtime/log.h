// Structured logs: one JSON object per line (`level`, `ts`, `logger`, `msg`,
// then key/value fields) or a human text format, chosen by --log-format.
// Values are never secrets: callers log names and kinds, not tokens or bodies.
// As a guard, a field whose key looks like a credential (token, password,
// secret, authorization, ...) is written as "[redacted]" whatever its value.
//
//   {"level":"info","ts":"2026-01-02T03:04:05.678Z","logger":"slo","msg":"reconciled",
//    "namespace":"team-a","name":"checkout"}
//   2026-01-02T03:04:05.678Z INFO slo reconciled namespace=team-a name=checkout
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace relops::base {
class Clock;
}

namespace relops::runtime {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kJson, kText };

using LogValue = std::variant<std::string, int64_t, double, bool>;
using LogField = std::pair<std::string, LogValue>;

// Where log lines go; shared by every Logger derived from it. Each line is
// formatted first and then written with one write under a mutex, so lines from
// concurrent threads never interleave.
class LogSink {
 public:
  LogSink(std::ostream& out, LogFormat format, LogLevel minLevel);
  // `ts` comes from clock.now(); tests pass a FakeClock. The clock must outlive
  // the sink.
  LogSink(std::ostream& out, LogFormat format, LogLevel minLevel, const base::Clock& clock);
  bool enabled(LogLevel level) const { return level >= minLevel_; }
  void write(LogLevel level, std::string_view logger, std::string_view msg,
             const std::vector<LogField>& fields);

 private:
  struct State;
  std::shared_ptr<State> state_;
  LogFormat format_;
  LogLevel minLevel_;
};

// A named logger with fields attached to every line it writes (logr style):
//   Logger log = root.named("slo").with({{"namespace", ns}, {"name", name}});
//   log.info("reconciled", {{"requeueAfter", 60}});
class Logger {
 public:
  Logger(std::shared_ptr<LogSink> sink, std::string name = "");
  Logger named(std::string_view child) const;
  Logger with(std::initializer_list<LogField> fields) const;

  void debug(std::string_view msg, std::initializer_list<LogField> fields = {}) const;
  void info(std::string_view msg, std::initializer_list<LogField> fields = {}) const;
  void warn(std::string_view msg, std::initializer_list<LogField> fields = {}) const;
  void error(std::string_view msg, std::initializer_list<LogField> fields = {}) const;
  bool enabled(LogLevel level) const;

 private:
  void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) const;
  std::shared_ptr<LogSink> sink_;
  std::string name_;
  std::vector<LogField> fields_;
};

// A logger that discards everything, for tests and defaults.
Logger discardLogger();

// --log-level and --log-format values: "debug|info|warn|error", "json|text".
std::optional<LogLevel> parseLogLevel(std::string_view text);
std::optional<LogFormat> parseLogFormat(std::string_view text);
std::string_view toString(LogLevel level);

// True for field keys that name a credential, which are always redacted.
bool isSensitiveLogKey(std::string_view key);

}  // namespace relops::runtime
