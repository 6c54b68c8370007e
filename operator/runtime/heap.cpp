#include "operator/runtime/heap.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace relops::runtime {

HeapUsage heapUsage() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 info = mallinfo2();
  return HeapUsage{info.uordblks + info.hblkhd, info.fordblks};
#else
  return HeapUsage{};
#endif
}

size_t releaseFreeHeap(size_t minFree) {
  const size_t free = heapUsage().free;
  if (free < minFree) return free;
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  return free;
}

void limitHeapArenas(int arenas) {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, arenas);
#else
  (void)arenas;
#endif
}

}  // namespace relops::runtime
