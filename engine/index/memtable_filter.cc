// The memtable's filter of stored keys. See memtable_filter.h.
#include "index/memtable_filter.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "index/index_format.h"
#include "util/coding.h"

namespace immudb::index {

namespace {

uint64_t LoadU64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

}  // namespace

uint64_t MemTableKeyHash(std::string_view key) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = 0x2545f4914f6cdd1dULL ^ (n * kMul);
  for (; n >= 8; p += 8, n -= 8) {
    h = (h ^ LoadU64(p)) * kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

bool StoredKeyOfRecordKey(std::string_view user_key, std::string_view* stored) {
  if (user_key.empty()) return false;
  if (user_key[0] == kLatestTag) {
    *stored = user_key.substr(1);
    return true;
  }
  // 'H' || u32BE(len) || key || u64BE(revision).
  constexpr size_t kFixed = 1 + 4 + 8;
  if (user_key[0] != kHistoryTag || user_key.size() < kFixed) return false;
  const size_t len = GetU32BE(reinterpret_cast<const uint8_t*>(user_key.data() + 1));
  if (len != user_key.size() - kFixed) return false;
  *stored = user_key.substr(5, len);
  return true;
}

size_t MemTableKeyFilter::SizeFor(size_t bytes) {
  return std::bit_ceil(std::max<size_t>(bytes / kLineBytes, 1)) * kLineBytes;
}

MemTableKeyFilter::MemTableKeyFilter(size_t bytes)
    : lines_(SizeFor(bytes) / kLineBytes),
      owned_(new std::atomic<uint64_t>[lines_ * kLineWords]()),
      words_(owned_.get()) {}

MemTableKeyFilter::MemTableKeyFilter(size_t bytes, void* memory)
    : lines_(SizeFor(bytes) / kLineBytes), words_(static_cast<std::atomic<uint64_t>*>(memory)) {
  for (size_t i = 0; i < lines_ * kLineWords; i++) new (&words_[i]) std::atomic<uint64_t>(0);
}

MemTableKeyFilter::~MemTableKeyFilter() = default;

void MemTableKeyFilter::Add(uint64_t hash) {
  std::atomic<uint64_t>* line = words_ + (hash & (lines_ - 1)) * kLineWords;
  uint64_t g = (hash ^ (hash >> 31)) * 0xbf58476d1ce4e5b9ULL;
  for (int i = 0; i < kProbes; i++, g <<= 9) {
    const unsigned bit = static_cast<unsigned>(g >> 55);  // 0..511
    std::atomic<uint64_t>& w = line[bit >> 6];
    // One writer: a load and a store, no read-modify-write instruction.
    w.store(w.load(std::memory_order_relaxed) | (uint64_t{1} << (bit & 63)),
            std::memory_order_relaxed);
  }
}

bool MemTableKeyFilter::MayContain(uint64_t hash) const {
  const std::atomic<uint64_t>* line = words_ + (hash & (lines_ - 1)) * kLineWords;
  uint64_t g = (hash ^ (hash >> 31)) * 0xbf58476d1ce4e5b9ULL;
  for (int i = 0; i < kProbes; i++, g <<= 9) {
    const unsigned bit = static_cast<unsigned>(g >> 55);
    if ((line[bit >> 6].load(std::memory_order_relaxed) & (uint64_t{1} << (bit & 63))) == 0) {
      return false;
    }
  }
  return true;
}

}  // namespace immudb::index
