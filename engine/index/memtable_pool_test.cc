#include "index/memtable_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "util/anon_memory.h"

namespace immudb::index {
namespace {

TEST(MemTableChunkPoolTest, ReleasedChunksAreReusedBeforeNewOnesAreMapped) {
  MemTableChunkPool pool(10000, 4);
  EXPECT_EQ(pool.chunk_bytes(), 12288u);  // Whole pages.
  char* a = pool.Acquire();
  char* b = pool.Acquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(a, b);
  std::memset(a, 0xab, pool.chunk_bytes());  // Whole chunks are writable.
  std::memset(b, 0xcd, pool.chunk_bytes());
  EXPECT_EQ(pool.mapped_chunks(), 2u);
  pool.Release(a);
  EXPECT_EQ(pool.idle_chunks(), 1u);
  char* c = pool.Acquire();
  EXPECT_EQ(c, a);  // The idle chunk, with its contents (not cleared).
  EXPECT_EQ(static_cast<unsigned char>(c[100]), 0xab);
  pool.Release(b);
  char* d = pool.Acquire();
  EXPECT_EQ(d, b);
  EXPECT_EQ(pool.chunks_mapped_total(), 2u);
  EXPECT_EQ(pool.mapped_chunks(), 2u);
  pool.Release(c);
  pool.Release(d);
  EXPECT_EQ(pool.idle_chunks(), 2u);
}

// Chunks of a huge page start at a huge page boundary (so the kernel can
// back each with one) and are whole.
TEST(MemTableChunkPoolTest, HugePageChunksAreAligned) {
  MemTableChunkPool pool(kHugePageBytes, 1);
  char* a = pool.Acquire();
  char* b = pool.Acquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % kHugePageBytes, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % kHugePageBytes, 0u);
  EXPECT_EQ(a[0] | a[kHugePageBytes - 1], 0);  // Zeroed when new.
  std::memset(a, 1, kHugePageBytes);
  std::memset(b, 2, kHugePageBytes);
  pool.Release(a);
  pool.Release(b);  // Past the one idle chunk: unmapped.
  EXPECT_EQ(pool.mapped_chunks(), 1u);
}

TEST(MemTableChunkPoolTest, KeepsAtMostMaxIdleChunks) {
  MemTableChunkPool pool(4096, 3);
  std::vector<char*> chunks;
  for (int i = 0; i < 10; i++) chunks.push_back(pool.Acquire());
  EXPECT_EQ(pool.mapped_chunks(), 10u);
  for (char* c : chunks) pool.Release(c);
  EXPECT_EQ(pool.idle_chunks(), 3u);
  EXPECT_EQ(pool.mapped_chunks(), 3u);  // The other 7 were unmapped.
  // The next 3 come from the pool, the 4th is mapped anew.
  for (int i = 0; i < 4; i++) chunks[i] = pool.Acquire();
  EXPECT_EQ(pool.chunks_mapped_total(), 11u);
  EXPECT_EQ(pool.idle_chunks(), 0u);
  for (int i = 0; i < 4; i++) pool.Release(chunks[i]);
  EXPECT_EQ(pool.mapped_chunks(), 3u);

  MemTableChunkPool none(4096, 0);  // Keeps nothing.
  char* c = none.Acquire();
  none.Release(c);
  EXPECT_EQ(none.mapped_chunks(), 0u);
}

// Memtables are filled by one thread and freed by others (RocksDB's flush
// thread, readers): chunks released on some threads while others acquire
// are never handed out twice, and the counts stay consistent.
TEST(MemTableChunkPoolTest, ConcurrentReleaseAndAcquire) {
  constexpr int kThreads = 4;
  constexpr size_t kMaxHeld = 5;                      // Per thread.
  MemTableChunkPool pool(4096, kThreads * kMaxHeld);  // Room for all: none unmapped.
  std::atomic<bool> corrupted{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      std::vector<char*> held;
      for (int i = 0; i < 3000; i++) {
        if (held.size() < 1 + static_cast<size_t>(i) % kMaxHeld) {
          char* c = pool.Acquire();
          ASSERT_NE(c, nullptr);
          std::memset(c, 'a' + t, pool.chunk_bytes());
          held.push_back(c);
        } else {
          // A chunk held by this thread only keeps this thread's bytes.
          char* c = held.front();
          held.erase(held.begin());
          for (size_t off = 0; off < pool.chunk_bytes(); off += 512) {
            if (c[off] != 'a' + t) corrupted = true;
          }
          pool.Release(c);
        }
        if (i % 64 == 0) std::this_thread::yield();
      }
      for (char* c : held) pool.Release(c);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(corrupted.load());
  EXPECT_EQ(pool.mapped_chunks(), pool.idle_chunks());
  // A chunk is mapped only when none is idle, so never more were mapped than
  // were held at once.
  EXPECT_LE(pool.chunks_mapped_total(), kThreads * kMaxHeld);
  EXPECT_EQ(pool.idle_chunks(), pool.chunks_mapped_total());
}

}  // namespace
}  // namespace immudb::index
