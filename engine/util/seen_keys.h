// Finds a key that repeats an earlier one of the same tx, key by key, so that
// callers keep their own order of checks.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <unordered_set>

namespace immudb {

class SeenKeys {
 public:
  // `n`: how many keys will be added. Few keys (most txs) are compared
  // pairwise, with no allocation; more go into a hash set.
  explicit SeenKeys(size_t n) : pairwise_(n <= kPairwise) {
    if (!pairwise_) set_.reserve(n);
  }

  // True when `key` equals a key added before; else adds it. `key`'s bytes
  // must stay valid while this object is used.
  bool Repeats(std::string_view key) {
    if (!pairwise_) return !set_.insert(key).second;
    for (size_t j = 0; j < count_; j++) {
      if (few_[j] == key) return true;
    }
    if (count_ < kPairwise) few_[count_++] = key;
    return false;
  }

 private:
  static constexpr size_t kPairwise = 8;
  const bool pairwise_;
  std::array<std::string_view, kPairwise> few_;
  size_t count_ = 0;
  std::unordered_set<std::string_view> set_;
};

}  // namespace immudb
