// The body of a watch response: newline-delimited JSON, one
// {"type": ..., "object": ...} per line, arriving in chunks that split lines
// anywhere. Pure: bytes in, events out, no I/O, so the runtime and the tests
// drive it directly.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/result.h"
#include "operator/kube/client.h"

namespace relops::kube {

// "ADDED" → kAdded, ...; std::nullopt for anything else.
std::optional<WatchEventType> parseWatchEventType(std::string_view type);
std::string_view toString(WatchEventType type);

class WatchStreamParser {
 public:
  // Appends bytes and returns every event whose line is now complete, in
  // order. A line that is not a watch event (bad JSON, unknown type, no
  // object) becomes an Error in its place; the lines after it still parse.
  // There is no size limit on a line: an object of many MiB is buffered
  // until its newline arrives.
  std::vector<Result<WatchEvent>> feed(std::string_view bytes);

  // At the end of the body: a last line without its newline, if any.
  std::vector<Result<WatchEvent>> finish();

  // Bytes held for an incomplete line.
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  void parseLine(std::string_view line, std::vector<Result<WatchEvent>>& out);

  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already turned into events
  size_t scanned_ = 0;   // bytes of buffer_ known to hold no newline past consumed_
};

// One watch event line, parsed.
Result<WatchEvent> parseWatchEvent(std::string_view line);

}  // namespace relops::kube
