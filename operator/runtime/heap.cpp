#include "operator/runtime/heap.h"

#include <unistd.h>

#include <cstdio>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace relops::runtime {
namespace {

size_t residentBytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  const int read = std::fscanf(statm, "%lu %lu", &size, &resident);
  std::fclose(statm);
  if (read != 2) return 0;
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

HeapUsage heapUsage() {
  HeapUsage usage;
  usage.resident = residentBytes();
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 info = mallinfo2();
  usage.inUse = info.uordblks + info.hblkhd;
#endif
  return usage;
}

bool HeapReleaser::releaseIfGrown() {
  const HeapUsage before = heapUsage();
  if (before.resident == 0 || before.inUse > before.resident) return false;
  const size_t slack = before.resident - before.inUse;
  if (slack_ && slack < *slack_ + minGrowth_) return false;
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  const HeapUsage after = heapUsage();
  slack_ = after.resident >= after.inUse ? after.resident - after.inUse : 0;
  return true;
}

void limitHeapArenas(int arenas) {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, arenas);
#else
  (void)arenas;
#endif
}

}  // namespace relops::runtime
