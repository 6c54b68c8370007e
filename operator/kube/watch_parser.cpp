#include "operator/kube/watch_parser.h"

#include <algorithm>

namespace relops::kube {
namespace {

using base::Error;
using base::ErrorKind;

// Enough of a bad line to recognise it in a log, without echoing megabytes.
constexpr size_t kExcerpt = 120;

std::string excerpt(std::string_view line) {
  std::string text(line.substr(0, kExcerpt));
  if (line.size() > kExcerpt) text += "...";
  return text;
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

Error decodeError(std::string problem, std::string_view line) {
  // Transient: the informer restarts the watch, as client-go's reflector
  // does when its decoder fails.
  return Error(ErrorKind::kTransient, "watch: " + problem + " in line of " +
                                          std::to_string(line.size()) + " bytes: " + excerpt(line));
}

}  // namespace

std::optional<WatchEventType> parseWatchEventType(std::string_view type) {
  if (type == "ADDED") return WatchEventType::kAdded;
  if (type == "MODIFIED") return WatchEventType::kModified;
  if (type == "DELETED") return WatchEventType::kDeleted;
  if (type == "BOOKMARK") return WatchEventType::kBookmark;
  if (type == "ERROR") return WatchEventType::kError;
  return std::nullopt;
}

std::string_view toString(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

Result<WatchEvent> parseWatchEvent(std::string_view line) {
  Json document = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return decodeError("invalid JSON", line);
  if (!document.is_object()) return decodeError("not a JSON object", line);
  const auto type = document.find("type");
  if (type == document.end() || !type->is_string()) return decodeError("no type", line);
  const std::optional<WatchEventType> parsed = parseWatchEventType(type->get<std::string>());
  if (!parsed) return decodeError("unknown event type \"" + type->get<std::string>() + "\"", line);
  const auto object = document.find("object");
  if (object == document.end() || !object->is_object()) return decodeError("no object", line);
  return WatchEvent{*parsed, std::move(*object)};
}

void WatchStreamParser::parseLine(std::string_view line, std::vector<Result<WatchEvent>>& out) {
  if (blank(line)) return;
  out.push_back(parseWatchEvent(line));
}

std::vector<Result<WatchEvent>> WatchStreamParser::feed(std::string_view bytes) {
  std::vector<Result<WatchEvent>> events;
  buffer_.append(bytes);
  // Only the new bytes are searched for a newline, so a 20 MiB object fed in
  // 4 KiB chunks costs linear, not quadratic, time.
  while (true) {
    const size_t from = std::max(scanned_, consumed_);
    const size_t newline = buffer_.find('\n', from);
    if (newline == std::string::npos) {
      scanned_ = buffer_.size();
      break;
    }
    parseLine(std::string_view(buffer_).substr(consumed_, newline - consumed_), events);
    consumed_ = newline + 1;
    scanned_ = consumed_;
  }
  // Drop what was consumed once it dominates the buffer (amortised O(1) per byte).
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(0, consumed_);
    scanned_ -= consumed_;
    consumed_ = 0;
  }
  return events;
}

std::vector<Result<WatchEvent>> WatchStreamParser::finish() {
  std::vector<Result<WatchEvent>> events;
  parseLine(std::string_view(buffer_).substr(consumed_), events);
  buffer_.clear();
  consumed_ = 0;
  scanned_ = 0;
  return events;
}

}  // namespace relops::kube
