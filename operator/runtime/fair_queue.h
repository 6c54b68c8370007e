// The ready keys of a WorkQueue, fair across namespaces: one FIFO per namespace, served
// round-robin, so a namespace with a thousand queued objects delays another namespace's key by
// at most one key per busy namespace, not by its whole backlog (API Priority and Fairness's
// shuffle-sharding idea, reduced to its simplest form: every namespace is its own flow).
// Within a namespace keys keep their FIFO order. Keys are "namespace/name"; a key without a
// slash (a cluster-scoped object) belongs to the flow "".
//
// Not thread-safe: WorkQueue holds its lock around every call.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relops::runtime {

class FairQueue {
 public:
  void push(std::string key);
  // The next key: the oldest key of the namespace whose turn it is. Requires !empty().
  std::string pop();
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  // Namespaces with keys waiting.
  size_t flows() const { return turns_.size(); }

  static std::string_view flowOf(std::string_view key);

 private:
  std::unordered_map<std::string, std::deque<std::string>> byFlow_;
  std::deque<std::string> turns_;  // flows with keys, in the order they are served
  size_t size_ = 0;
};

}  // namespace relops::runtime
