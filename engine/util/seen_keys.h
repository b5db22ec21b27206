// Finds a key that repeats an earlier one of the same tx, key by key, so that
// callers keep their own order of checks.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace immudb {

class SeenKeys {
 public:
  // `n`: how many keys will be added. Few keys (most txs) are compared
  // pairwise, with no allocation. More are first checked for ascending
  // order, one comparison with the previous key each (a batch of sequence
  // numbers or timestamps, a client's sorted batch): ascending keys repeat
  // none, and cost no hashing and no allocation per key. From the first key
  // that does not ascend on, the keys go into a hash set.
  explicit SeenKeys(size_t n) : n_(n), pairwise_(n <= kPairwise) {
    if (!pairwise_) ascending_.reserve(n);
  }

  // True when `key` equals a key added before; else adds it. `key`'s bytes
  // must stay valid while this object is used.
  bool Repeats(std::string_view key) {
    if (!pairwise_) {
      if (!hashed_) {
        if (ascending_.empty() || ascending_.back() < key) {
          ascending_.push_back(key);
          return false;
        }
        hashed_ = true;
        set_.reserve(n_);
        set_.insert(ascending_.begin(), ascending_.end());
      }
      return !set_.insert(key).second;
    }
    for (size_t j = 0; j < count_; j++) {
      if (few_[j] == key) return true;
    }
    if (count_ < kPairwise) few_[count_++] = key;
    return false;
  }

 private:
  static constexpr size_t kPairwise = 8;
  const size_t n_;
  const bool pairwise_;
  std::array<std::string_view, kPairwise> few_;
  size_t count_ = 0;
  // The keys so far while each was greater than the one before.
  std::vector<std::string_view> ascending_;
  bool hashed_ = false;  // A key did not ascend: set_ holds every key.
  std::unordered_set<std::string_view> set_;
};

}  // namespace immudb
