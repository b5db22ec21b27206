#include "util/seen_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace immudb {
namespace {

// The index of the first key that repeats an earlier one, or -1.
int FirstRepeat(const std::vector<std::string>& keys) {
  SeenKeys seen(keys.size());
  for (size_t i = 0; i < keys.size(); i++) {
    if (seen.Repeats(keys[i])) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::string> Numbered(int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; i++) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "k%06d", i);
    keys.emplace_back(buf);
  }
  return keys;
}

TEST(SeenKeysTest, FewKeysPairwise) {
  EXPECT_EQ(FirstRepeat({"b", "a", "c"}), -1);
  EXPECT_EQ(FirstRepeat({"b", "a", "b"}), 2);
  EXPECT_EQ(FirstRepeat({"a", "a"}), 1);
}

TEST(SeenKeysTest, AscendingKeysRepeatNone) { EXPECT_EQ(FirstRepeat(Numbered(1000)), -1); }

TEST(SeenKeysTest, RepeatRightAfterAscendingRun) {
  std::vector<std::string> keys = Numbered(100);
  keys.push_back(keys.back());  // Equal to the previous key: not ascending.
  EXPECT_EQ(FirstRepeat(keys), 100);
}

TEST(SeenKeysTest, RepeatOfAnEarlierKeyAfterAscendingRun) {
  std::vector<std::string> keys = Numbered(100);
  keys.push_back(keys[17]);
  EXPECT_EQ(FirstRepeat(keys), 100);
}

TEST(SeenKeysTest, DescendingKeyThenRepeatLater) {
  std::vector<std::string> keys = Numbered(50);
  keys.push_back("a-new");  // Out of order, new: the hash set takes over.
  keys.push_back("k000060");
  keys.push_back("k000003");  // Repeats a key of the ascending run.
  EXPECT_EQ(FirstRepeat(keys), 52);
  std::vector<std::string> later = Numbered(50);
  later.push_back("a-new");
  later.push_back("z");
  later.push_back("a-new");  // Repeats a key added after the switch.
  EXPECT_EQ(FirstRepeat(later), 52);
}

TEST(SeenKeysTest, UnorderedDistinctKeysRepeatNone) {
  std::vector<std::string> keys = Numbered(500);
  std::vector<std::string> shuffled;
  for (int i = 0; i < 500; i++) shuffled.push_back(keys[(i * 7919) % 500]);
  EXPECT_EQ(FirstRepeat(shuffled), -1);
  shuffled.push_back(keys[250]);
  EXPECT_EQ(FirstRepeat(shuffled), 500);
}

}  // namespace
}  // namespace immudb
