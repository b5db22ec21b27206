// See revision_cache.h.
#include "index/revision_cache.h"

#include <bit>
#include <cstring>
#include <functional>

namespace immudb::index {

RevisionCache::RevisionCache(size_t capacity) {
  if (capacity == 0) return;
  slots_.resize(std::bit_ceil(capacity));
  mask_ = slots_.size() - 1;
}

uint64_t RevisionCache::HashOf(std::string_view key) { return std::hash<std::string_view>()(key); }

std::optional<uint64_t> RevisionCache::Lookup(std::string_view key) const {
  if (slots_.empty()) return std::nullopt;
  const uint64_t h = HashOf(key);
  const Slot& s = slots_[h & mask_];
  if (s.revision == 0 || s.hash != h || s.len != key.size() ||
      std::memcmp(s.key(), key.data(), key.size()) != 0) {
    return std::nullopt;
  }
  return s.revision;
}

void RevisionCache::Insert(std::string_view key, uint64_t revision) {
  if (slots_.empty()) return;
  const uint64_t h = HashOf(key);
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

void RevisionCache::Prefetch(std::string_view key) const {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[HashOf(key) & mask_], /*rw=*/1);
}

void RevisionCache::Clear() {
  for (Slot& s : slots_) {
    s.revision = 0;
    s.len = 0;
  }
}

}  // namespace immudb::index
