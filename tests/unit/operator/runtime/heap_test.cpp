// The heap releaser: it hands freed memory back once, after the resident memory beyond what
// malloc hands out grew, and leaves an idle heap alone.
#include "operator/runtime/heap.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace relops::runtime {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kBlock = 64 * 1024;

// Frees every other one of `count` touched 64 KiB blocks (below malloc's mmap threshold): what
// is freed is scattered between live blocks, so malloc cannot give it back by shrinking the
// heap's top.
std::vector<std::unique_ptr<char[]>> fragment(size_t count) {
  std::vector<std::unique_ptr<char[]>> blocks;
  blocks.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    blocks.push_back(std::make_unique<char[]>(kBlock));
    std::memset(blocks.back().get(), static_cast<int>(i), kBlock);
  }
  for (size_t i = 0; i < count; i += 2) blocks[i].reset();
  return blocks;
}

TEST(HeapReleaser, ReleasesOnceAfterGrowthAndLeavesAnIdleHeapAlone) {
  HeapReleaser releaser(4 * kMiB);
  EXPECT_TRUE(releaser.releaseIfGrown());   // the first look always releases
  EXPECT_FALSE(releaser.releaseIfGrown());  // nothing grew since

  auto live = fragment(1024);  // 64 MiB touched, 32 MiB of it freed between live blocks
  const HeapUsage grown = heapUsage();
  EXPECT_TRUE(releaser.releaseIfGrown());
  const HeapUsage released = heapUsage();
  EXPECT_FALSE(releaser.releaseIfGrown());

  // Where glibc's malloc is the allocator (not a sanitizer's), the freed blocks' pages are
  // no longer resident.
  if (grown.inUse > 24 * kMiB) {
    EXPECT_LT(released.resident + 16 * kMiB, grown.resident);
  }
}

}  // namespace
}  // namespace relops::runtime
