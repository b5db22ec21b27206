// SplitList of the layered settings (server/layered_settings.h).
#include "server/layered_settings.h"

#include <gtest/gtest.h>

namespace immudb::server {
namespace {

using List = std::vector<std::string>;

TEST(SplitListTest, KeepsTheNonEmptyItemsInOrder) {
  EXPECT_EQ(SplitList("a,b,c"), (List{"a", "b", "c"}));
  EXPECT_EQ(SplitList(",a,,b,"), (List{"a", "b"}));
  EXPECT_EQ(SplitList("one"), (List{"one"}));
  EXPECT_EQ(SplitList(" x , y"), (List{" x ", " y"}));  // Items are not trimmed.
  EXPECT_TRUE(SplitList("").empty());
  EXPECT_TRUE(SplitList(",,").empty());
}

}  // namespace
}  // namespace immudb::server
