// Anonymous memory for large, long-lived tables that are accessed at random
// (the index's revision cache, memtable chunks). Regions of at least
// kHugePageBytes are aligned to it and advised for transparent huge pages
// (MADV_HUGEPAGE; the kernel may decline): one TLB entry and one page fault
// per 2 MiB instead of per 4 KiB. On a paravirtualized guest both TLB
// misses and first-touch faults of 4 KiB pages were a large part of the
// index's memory traffic.
#pragma once

#include <cstddef>

namespace immudb {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// `bytes` (> 0) of zeroed anonymous memory, or nullptr when it cannot be
// mapped.
char* MapAnonymous(size_t bytes);
// Unmaps memory from MapAnonymous(bytes).
void UnmapAnonymous(char* p, size_t bytes);

}  // namespace immudb
