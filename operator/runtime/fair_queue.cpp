#include "operator/runtime/fair_queue.h"

#include <utility>

namespace relops::runtime {

std::string_view FairQueue::flowOf(std::string_view key) {
  const auto slash = key.find('/');
  return slash == std::string_view::npos ? std::string_view() : key.substr(0, slash);
}

void FairQueue::push(std::string key) {
  std::string flow(flowOf(key));
  std::deque<std::string>& keys = byFlow_[flow];
  if (keys.empty()) turns_.push_back(std::move(flow));
  keys.push_back(std::move(key));
  ++size_;
}

std::string FairQueue::pop() {
  std::string flow = std::move(turns_.front());
  turns_.pop_front();
  auto found = byFlow_.find(flow);
  std::string key = std::move(found->second.front());
  found->second.pop_front();
  if (found->second.empty()) {
    byFlow_.erase(found);  // an idle namespace holds no memory
  } else {
    turns_.push_back(std::move(flow));
  }
  --size_;
  return key;
}

}  // namespace relops::runtime
