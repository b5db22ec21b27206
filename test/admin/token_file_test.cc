// The token file immuadmin and immuclient share (cmd/common/token_file.h).
#include "cmd/common/token_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "testutil/test_util.h"

namespace immudb::cli {
namespace {

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testutil::FreshTestDir("token_file_test"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TokenFileTest, RoundTripInImmudbsLayoutWithMode0600) {
  const std::string path = dir_ + "/token";
  ASSERT_TRUE(WriteTokenFile(path, "db1", "tok").ok());
  EXPECT_EQ(testutil::ReadAll(path), std::string("\0\0\0\0\0\0\0\x03", 8) + "db1tok");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string db, token;
  Result<bool> read = ReadTokenFile(path, &db, &token);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read);
  EXPECT_EQ(db, "db1");
  EXPECT_EQ(token, "tok");

  // Writing again replaces the file.
  ASSERT_TRUE(WriteTokenFile(path, "", "t2").ok());
  read = ReadTokenFile(path, &db, &token);
  ASSERT_TRUE(read.ok() && *read);
  EXPECT_EQ(db, "");
  EXPECT_EQ(token, "t2");
}

TEST_F(TokenFileTest, AbsentFileIsFalseAndMalformedOnesAreErrors) {
  std::string db = "keep", token = "keep";
  Result<bool> read = ReadTokenFile(dir_ + "/none", &db, &token);
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(*read);

  const std::string path = dir_ + "/bad";
  for (const std::string& bad :
       {std::string("\0\0\0", 3), std::string("\0\0\0\0\0\0\0\x05", 8) + "db"}) {
    testutil::WriteAll(path, bad);
    read = ReadTokenFile(path, &db, &token);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.status().message(), "malformed token file " + path);
  }
  EXPECT_EQ(db, "keep");
  EXPECT_EQ(token, "keep");

  const Status st = WriteTokenFile(dir_ + "/no/such/dir/token", "db", "t");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "cannot write token file " + dir_ + "/no/such/dir/token");
}

TEST(TokenFilePathTest, PlainNamesLiveInHome) {
  const char* old = std::getenv("HOME");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("HOME", "/some/home", 1);
  EXPECT_EQ(TokenFilePath("token_admin"), "/some/home/token_admin");
  EXPECT_EQ(TokenFilePath("./token"), "./token");
  EXPECT_EQ(TokenFilePath("/abs/token"), "/abs/token");
  ::setenv("HOME", "", 1);
  EXPECT_EQ(TokenFilePath("token"), "./token");
  if (old != nullptr) {
    ::setenv("HOME", saved.c_str(), 1);
  } else {
    ::unsetenv("HOME");
  }
}

}  // namespace
}  // namespace immudb::cli
