// Small helpers shared by the tests: temporary directories and test seeds.
#pragma once

#include <cstdint>
#include <string>

namespace immudb::testutil {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// destroyed unless IMMUDB_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The scratch directory of the running gtest test,
// <testing::TempDir()>/<prefix>_<pid>_<test name>: created empty (what an
// earlier run left there is removed first).
std::string FreshTestDir(const std::string& prefix);

// Removes a directory tree; ignores errors.
void RemoveTree(const std::string& path);

// Seed for randomized tests: $IMMUDB_TEST_SEED if set, else a fixed default,
// printed so a failure can be replayed.
uint64_t TestSeed();

// Integer from environment variable `name`, or `def` when unset or invalid.
int64_t EnvInt(const char* name, int64_t def);

// The whole content of a file ("" when it cannot be read), and writing one
// anew: for tests that change files behind a store's back.
std::string ReadAll(const std::string& path);
void WriteAll(const std::string& path, const std::string& data);
// XORs the byte at `off` of the file with `mask`, in place; false (and the
// file unchanged) when the file is shorter than off + 1 bytes.
bool FlipByte(const std::string& path, uint64_t off, uint8_t mask = 0x40);

}  // namespace immudb::testutil
