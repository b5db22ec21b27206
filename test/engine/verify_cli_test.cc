// Runs the immudb-verify binary (from $IMMUDB_BIN_DIR, else the build's bin
// directory) on a good store, a damaged one and bad command lines.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "immudb/store.h"
#include "testutil/test_util.h"

namespace immudb {
namespace {

using testutil::TempDir;

std::string VerifyBinary() {
  const char* env = std::getenv("IMMUDB_BIN_DIR");
  std::string dir = env && *env ? env : IMMUDB_BIN_DIR;
  return dir + "/immudb-verify";
}

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together.
};

RunResult RunVerify(const std::string& args) {
  RunResult r;
  const std::string cmd = "'" + VerifyBinary() + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

// Ten distinct bytes per tx.
std::string Value(int i) { return "value-000" + std::to_string(i); }

class VerifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(VerifyBinary()))
        << VerifyBinary() << " is missing: build the immudb-verify target";
    StoreOptions o;
    auto t = std::make_shared<std::atomic<int64_t>>(1700000000);
    o.now_unix_seconds = [t] { return ++*t; };
    auto s = Store::Open(d_.path(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (int i = 1; i <= 5; i++) {
      auto h = (*s)->Commit({EntrySpec{"key" + std::to_string(i), Value(i), {}}});
      ASSERT_TRUE(h.ok());
    }
    ASSERT_TRUE((*s)->Close().ok());
  }

  std::string Quoted() const { return "'" + d_.path() + "'"; }

  TempDir d_;
};

TEST_F(VerifyCliTest, GoodStoreExitsZero) {
  RunResult r = RunVerify(Quoted());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("verified 5 transactions, "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" bytes: OK"), std::string::npos) << r.output;
}

TEST_F(VerifyCliTest, DamagedValueExitsOneAndNamesIt) {
  // Each tx's 10-byte value lies in the tx log just before its record: find
  // tx 3's value and damage its sixth byte.
  const std::string path = d_.Sub("tx/00000000.tx");
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = data.find(Value(3));
  ASSERT_NE(at, std::string::npos);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(at + 5));
  f.put('X');
  f.close();
  RunResult r = RunVerify(Quoted());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("tx 3: value log tx/00000000.tx offset " + std::to_string(at) +
                          ": value does not match its hash"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("FAILED after 2 verified transactions"), std::string::npos) << r.output;
}

TEST_F(VerifyCliTest, MissingDirectoryExitsOne) {
  RunResult r = RunVerify("'" + d_.Sub("missing") + "'");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no such directory"), std::string::npos) << r.output;
}

TEST_F(VerifyCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunVerify("").exit_code, 2);
  EXPECT_EQ(RunVerify(Quoted() + " extra").exit_code, 2);
  EXPECT_EQ(RunVerify("--bogus").exit_code, 2);
  RunResult help = RunVerify("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("usage: immudb-verify <dir>"), std::string::npos);
}

}  // namespace
}  // namespace immudb
