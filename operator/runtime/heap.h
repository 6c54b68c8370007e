// Handing freed heap back to the system. glibc's malloc keeps what a burst of work
// freed (the initial list of every watched object, a convergence of thousands of
// reconciles) in its arenas for reuse, so resident memory would stay at its peak long
// after the burst. The manager releases it once the caches have synced and then
// periodically, only when the memory resident beyond what malloc hands out has grown
// since the last release (so an idle process costs a look at two counters).
#pragma once

#include <cstddef>
#include <optional>

namespace relops::runtime {

struct HeapUsage {
  size_t inUse = 0;     // bytes handed out by malloc
  size_t resident = 0;  // the process's resident bytes
};

// What malloc hands out and what is resident now; zeros where the system cannot tell.
HeapUsage heapUsage();

class HeapReleaser {
 public:
  // Releases when the resident memory beyond what malloc hands out has grown by at least
  // `minGrowth` bytes since the last release (at the first call: always).
  explicit HeapReleaser(size_t minGrowth) : minGrowth_(minGrowth) {}
  // Whether it released.
  bool releaseIfGrown();

 private:
  size_t minGrowth_;
  std::optional<size_t> slack_;  // resident - in use, after the last release
};

// At most `arenas` malloc arenas: every thread that allocates at once otherwise gets
// an arena of its own (up to 8 per core), each keeping its own free memory. Call
// before threads start.
void limitHeapArenas(int arenas);

}  // namespace relops::runtime
