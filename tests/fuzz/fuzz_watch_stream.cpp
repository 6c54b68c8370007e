// Watch response bodies (operator/kube/watch_parser.h): the bytes arrive in chunks that may
// split a line anywhere. The first byte of the input chooses the chunk size, so the fuzzer
// explores splits as well as content. Checked: feeding the body in chunks yields the same
// events, in the same order, as parsing it line by line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "operator/kube/watch_parser.h"

namespace {

using relops::kube::WatchEvent;
using relops::kube::WatchStreamParser;
using Events = std::vector<relops::base::Result<WatchEvent>>;

bool same(const Events& a, const Events& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].ok() != b[i].ok()) return false;
    if (a[i].ok() && (a[i]->type != b[i]->type || a[i]->object != b[i]->object)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  WatchStreamParser chunked;
  Events fromChunks;
  for (size_t at = 0; at < body.size(); at += chunk) {
    for (auto& event : chunked.feed(body.substr(at, chunk))) fromChunks.push_back(std::move(event));
  }
  for (auto& event : chunked.finish()) fromChunks.push_back(std::move(event));
  if (chunked.buffered() != 0) std::abort();

  WatchStreamParser whole;
  Events fromWhole = whole.feed(body);
  for (auto& event : whole.finish()) fromWhole.push_back(std::move(event));

  if (!same(fromChunks, fromWhole)) std::abort();
  return 0;
}
