// See revision_cache.h.
#include "index/revision_cache.h"

#include <bit>
#include <cstring>
#include <functional>
#include <new>
#include <utility>

#include "util/anon_memory.h"

namespace immudb::index {

RevisionCache::RevisionCache(size_t capacity) {
  if (capacity == 0) return;
  const size_t n = std::bit_ceil(capacity);
  char* mem = MapAnonymous(n * sizeof(Slot));
  if (mem == nullptr) return;
  slots_ = reinterpret_cast<Slot*>(mem);
  for (size_t i = 0; i < n; i++) new (&slots_[i]) Slot();
  count_ = n;
  mask_ = n - 1;
}

RevisionCache::~RevisionCache() { Release(); }

RevisionCache::RevisionCache(RevisionCache&& other) noexcept
    : slots_(std::exchange(other.slots_, nullptr)),
      count_(std::exchange(other.count_, 0)),
      mask_(std::exchange(other.mask_, 0)) {}

RevisionCache& RevisionCache::operator=(RevisionCache&& other) noexcept {
  if (this != &other) {
    Release();
    slots_ = std::exchange(other.slots_, nullptr);
    count_ = std::exchange(other.count_, 0);
    mask_ = std::exchange(other.mask_, 0);
  }
  return *this;
}

void RevisionCache::Release() {
  if (slots_ == nullptr) return;
  for (size_t i = 0; i < count_; i++) slots_[i].~Slot();
  UnmapAnonymous(reinterpret_cast<char*>(slots_), count_ * sizeof(Slot));
  slots_ = nullptr;
  count_ = 0;
  mask_ = 0;
}

uint64_t RevisionCache::HashOf(std::string_view key) { return std::hash<std::string_view>()(key); }

std::optional<uint64_t> RevisionCache::Lookup(std::string_view key, uint64_t h) const {
  if (count_ == 0) return std::nullopt;
  const Slot& s = slots_[h & mask_];
  if (s.revision == 0 || s.hash != h || s.len != key.size() ||
      std::memcmp(s.key(), key.data(), key.size()) != 0) {
    return std::nullopt;
  }
  return s.revision;
}

void RevisionCache::Insert(std::string_view key, uint64_t h, uint64_t revision) {
  if (count_ == 0) return;
  Slot& s = slots_[h & mask_];
  char* dst = s.inline_key;
  if (key.size() > kInlineKey) {
    if (s.long_capacity < key.size()) {
      s.long_key = std::make_unique<char[]>(key.size());
      s.long_capacity = static_cast<uint32_t>(key.size());
    }
    dst = s.long_key.get();
  }
  std::memcpy(dst, key.data(), key.size());
  s.hash = h;
  s.revision = revision;
  s.len = static_cast<uint32_t>(key.size());
}

void RevisionCache::Prefetch(uint64_t hash) const {
  if (count_ == 0) return;
  __builtin_prefetch(&slots_[hash & mask_], /*rw=*/1);
}

void RevisionCache::Clear() {
  for (size_t i = 0; i < count_; i++) {
    slots_[i].revision = 0;
    slots_[i].len = 0;
  }
}

}  // namespace immudb::index
