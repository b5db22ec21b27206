// See anon_memory.h.
#include "util/anon_memory.h"

#include <sys/mman.h>

#include <cstdint>

namespace immudb {

char* MapAnonymous(size_t bytes) {
  const bool huge = bytes >= kHugePageBytes;
  // Room to align the start to a huge page; the slack is unmapped.
  const size_t map_bytes = huge ? bytes + kHugePageBytes : bytes;
  void* p = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  char* start = static_cast<char*>(p);
  if (!huge) return start;
  const uintptr_t raw = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (raw + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  char* a = reinterpret_cast<char*>(aligned);
  if (a > start) munmap(start, a - start);
  char* end = start + map_bytes;
  if (end > a + bytes) munmap(a + bytes, end - (a + bytes));
  // Advice only: without huge pages the memory works the same.
  (void)madvise(a, bytes, MADV_HUGEPAGE);
  return a;
}

void UnmapAnonymous(char* p, size_t bytes) {
  if (p != nullptr) munmap(p, bytes);
}

}  // namespace immudb
