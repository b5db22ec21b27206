// See revision_cache.h.
#include "index/revision_cache.h"

#include <bit>
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
  if (s.revision == 0 || s.hash != h || s.key != key) return std::nullopt;
  return s.revision;
}

void RevisionCache::Insert(std::string_view key, uint64_t revision) {
  if (slots_.empty()) return;
  const uint64_t h = HashOf(key);
  Slot& s = slots_[h & mask_];
  s.hash = h;
  s.revision = revision;
  s.key.assign(key);
}

void RevisionCache::Clear() {
  for (Slot& s : slots_) {
    s.revision = 0;
    s.key.clear();
  }
}

}  // namespace immudb::index
