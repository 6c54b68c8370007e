#include "operator/runtime/log.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>

#include "operator/base/clock.h"

namespace relops::runtime {
namespace {

// The keys every line starts with; a field of the same name is renamed
// ("msg" -> "msg_") so it can never overwrite them.
constexpr std::array<std::string_view, 4> kReservedKeys = {"level", "ts", "logger", "msg"};
constexpr std::string_view kRedacted = "[redacted]";

const base::Clock& systemClock() {
  static const base::SystemClock kClock;
  return kClock;
}

// RFC 3339 in UTC with milliseconds, as zap's ISO8601 encoder in
// controller-runtime's production config: 2026-01-02T03:04:05.678Z.
std::string formatTimestamp(std::chrono::system_clock::time_point time) {
  namespace chrono = std::chrono;
  const auto ms = chrono::floor<chrono::milliseconds>(time);
  const auto day = chrono::floor<chrono::days>(ms);
  const chrono::year_month_day ymd{day};
  const chrono::hh_mm_ss hms{ms - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::string_view upperLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

// Invalid UTF-8 must not throw out of a log call: nlohmann replaces it with U+FFFD.
std::string dumpJson(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::ordered_json toJson(const LogValue& value) {
  return std::visit([](const auto& v) { return nlohmann::ordered_json(v); }, value);
}

// The fields as written: later duplicates replace the earlier value in place,
// reserved keys are renamed, credential-like keys are redacted.
std::vector<LogField> prepareFields(const std::vector<LogField>& fields) {
  std::vector<LogField> out;
  out.reserve(fields.size());
  for (const auto& [rawKey, value] : fields) {
    std::string key = rawKey;
    for (std::string_view reserved : kReservedKeys) {
      if (key == reserved) key += '_';
    }
    LogValue written = isSensitiveLogKey(key) ? LogValue(std::string(kRedacted)) : value;
    auto existing = std::find_if(out.begin(), out.end(),
                                 [&](const LogField& field) { return field.first == key; });
    if (existing != out.end()) {
      existing->second = std::move(written);
    } else {
      out.emplace_back(std::move(key), std::move(written));
    }
  }
  return out;
}

// logfmt-style: bare when unambiguous, else a JSON-quoted string.
std::string textValue(const LogValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    bool bare = !s->empty();
    for (unsigned char c : *s) {
      if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) {
        bare = false;
        break;
      }
    }
    return bare ? *s : dumpJson(nlohmann::ordered_json(*s));
  }
  return dumpJson(toJson(value));
}

// The message stays on one line: control characters are escaped as in JSON.
std::string textMessage(std::string_view msg) {
  std::string out;
  out.reserve(msg.size());
  for (char c : msg) {
    if (static_cast<unsigned char>(c) < 0x20) {
      std::string quoted = dumpJson(nlohmann::ordered_json(std::string(1, c)));
      out += quoted.substr(1, quoted.size() - 2);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

struct LogSink::State {
  State(std::ostream& o, const base::Clock& c) : out(&o), clock(&c) {}
  std::mutex mutex;
  std::ostream* out;
  const base::Clock* clock;
};

LogSink::LogSink(std::ostream& out, LogFormat format, LogLevel minLevel)
    : LogSink(out, format, minLevel, systemClock()) {}

LogSink::LogSink(std::ostream& out, LogFormat format, LogLevel minLevel, const base::Clock& clock)
    : state_(std::make_shared<State>(out, clock)), format_(format), minLevel_(minLevel) {}

void LogSink::write(LogLevel level, std::string_view logger, std::string_view msg,
                    const std::vector<LogField>& fields) {
  if (!enabled(level)) return;
  const std::string ts = formatTimestamp(state_->clock->now());
  const std::vector<LogField> prepared = prepareFields(fields);

  // The whole line is built before the lock: the critical section is one write.
  std::string line;
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    object["level"] = std::string(toString(level));
    object["ts"] = ts;
    object["logger"] = std::string(logger);
    object["msg"] = std::string(msg);
    for (const auto& [key, value] : prepared) object[key] = toJson(value);
    line = dumpJson(object);
  } else {
    line = ts;
    line += ' ';
    line += upperLevel(level);
    if (!logger.empty()) {
      line += ' ';
      line += logger;
    }
    line += ' ';
    line += textMessage(msg);
    for (const auto& [key, value] : prepared) {
      line += ' ';
      line += key;
      line += '=';
      line += textValue(value);
    }
  }
  line += '\n';

  std::lock_guard lock(state_->mutex);
  state_->out->write(line.data(), static_cast<std::streamsize>(line.size()));
  state_->out->flush();
}

Logger::Logger(std::shared_ptr<LogSink> sink, std::string name)
    : sink_(std::move(sink)), name_(std::move(name)) {}

// Names join with '.', as zap's Logger.Named (controller-runtime.metrics).
Logger Logger::named(std::string_view child) const {
  Logger out = *this;
  if (!child.empty()) {
    out.name_ = name_.empty() ? std::string(child) : name_ + "." + std::string(child);
  }
  return out;
}

Logger Logger::with(std::initializer_list<LogField> fields) const {
  Logger out = *this;
  out.fields_.insert(out.fields_.end(), fields.begin(), fields.end());
  return out;
}

void Logger::debug(std::string_view msg, std::initializer_list<LogField> fields) const {
  log(LogLevel::kDebug, msg, fields);
}
void Logger::info(std::string_view msg, std::initializer_list<LogField> fields) const {
  log(LogLevel::kInfo, msg, fields);
}
void Logger::warn(std::string_view msg, std::initializer_list<LogField> fields) const {
  log(LogLevel::kWarn, msg, fields);
}
void Logger::error(std::string_view msg, std::initializer_list<LogField> fields) const {
  log(LogLevel::kError, msg, fields);
}

bool Logger::enabled(LogLevel level) const { return sink_ && sink_->enabled(level); }

void Logger::log(LogLevel level, std::string_view msg,
                 std::initializer_list<LogField> fields) const {
  if (!enabled(level)) return;
  std::vector<LogField> all;
  all.reserve(fields_.size() + fields.size());
  all.insert(all.end(), fields_.begin(), fields_.end());
  all.insert(all.end(), fields.begin(), fields.end());
  sink_->write(level, name_, msg, all);
}

Logger discardLogger() { return Logger(nullptr); }

std::optional<LogLevel> parseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

std::optional<LogFormat> parseLogFormat(std::string_view text) {
  if (text == "json") return LogFormat::kJson;
  if (text == "text") return LogFormat::kText;
  return std::nullopt;
}

std::string_view toString(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool isSensitiveLogKey(std::string_view key) {
  // Compare on lower-case letters and digits only, so "bearerToken",
  // "bearer_token" and "X-Auth-Token" all match.
  std::string normalized;
  normalized.reserve(key.size());
  for (unsigned char c : key) {
    if (std::isalnum(c)) normalized += static_cast<char>(std::tolower(c));
  }
  constexpr std::array<std::string_view, 10> kWords = {
      "token",         "password", "passwd",     "passphrase", "secret",
      "authorization", "apikey",   "credential", "privatekey", "cookie"};
  for (std::string_view word : kWords) {
    if (normalized.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace relops::runtime
