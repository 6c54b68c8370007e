#include "operator/runtime/fair_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace relops::runtime {
namespace {

std::vector<std::string> drain(FairQueue& queue) {
  std::vector<std::string> out;
  while (!queue.empty()) out.push_back(queue.pop());
  return out;
}

TEST(FairQueue, OneNamespaceIsFifo) {
  FairQueue queue;
  for (const char* key : {"a/3", "a/1", "a/2"}) queue.push(key);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"a/3", "a/1", "a/2"}));
}

TEST(FairQueue, NamespacesTakeTurns) {
  FairQueue queue;
  for (const char* key : {"busy/1", "busy/2", "busy/3", "busy/4", "quiet/1", "other/1"}) {
    queue.push(key);
  }
  EXPECT_EQ(queue.flows(), 3u);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"busy/1", "quiet/1", "other/1", "busy/2",
                                                    "busy/3", "busy/4"}));
  EXPECT_EQ(queue.flows(), 0u);
}

// The property the work queue relies on: a key of a namespace that had nothing queued waits
// for at most one key of every other namespace with keys, however long their backlogs.
TEST(FairQueue, ABacklogDelaysANewcomerByOneKeyPerBusyNamespace) {
  FairQueue queue;
  for (int i = 0; i < 1000; ++i) queue.push("busy/" + std::to_string(i));
  for (int i = 0; i < 10; ++i) queue.pop();  // the busy namespace is being worked on
  queue.push("team-b/handoff");
  EXPECT_EQ(queue.pop(), "busy/10");
  EXPECT_EQ(queue.pop(), "team-b/handoff");
  EXPECT_EQ(queue.size(), 989u);
}

TEST(FairQueue, ClusterScopedKeysShareOneFlow) {
  EXPECT_EQ(FairQueue::flowOf("ns/name"), "ns");
  EXPECT_EQ(FairQueue::flowOf("node-1"), "");
  FairQueue queue;
  for (const char* key : {"n1", "n2", "ns/a"}) queue.push(key);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"n1", "ns/a", "n2"}));
}

TEST(FairQueue, ANamespaceThatEmptiedRejoinsAtTheBack) {
  FairQueue queue;
  queue.push("a/1");
  queue.push("b/1");
  queue.push("b/2");
  EXPECT_EQ(queue.pop(), "a/1");
  queue.push("a/2");  // a had emptied: it queues behind b, whose turn is next
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"b/1", "a/2", "b/2"}));
}

}  // namespace
}  // namespace relops::runtime
