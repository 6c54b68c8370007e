// Handing freed heap back to the system. glibc's malloc keeps what a burst of work
// freed (the initial list of every watched object, a convergence of thousands of
// reconciles) in its arenas for reuse, so resident memory would stay at its peak long
// after the burst. The manager releases it once the caches have synced and then
// periodically, only when enough is free to be worth a pass over the heap.
#pragma once

#include <cstddef>

namespace relops::runtime {

struct HeapUsage {
  size_t inUse = 0;  // bytes handed out by malloc
  size_t free = 0;   // bytes malloc holds for reuse
};

// What malloc holds now; zeros where the C library cannot tell.
HeapUsage heapUsage();

// Returns free heap pages to the system when malloc holds at least `minFree` bytes
// unused; the bytes it held free before. A no-op where the C library cannot do it.
size_t releaseFreeHeap(size_t minFree);

// At most `arenas` malloc arenas: every thread that allocates at once otherwise gets
// an arena of its own (up to 8 per core), each keeping its own free memory. Call
// before threads start.
void limitHeapArenas(int arenas);

}  // namespace relops::runtime
