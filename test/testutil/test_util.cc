#include "testutil/test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace immudb::testutil {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/immudb-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("IMMUDB_KEEP_TEST_DIRS") == nullptr) RemoveTree(path_);
}

std::string FreshTestDir(const std::string& prefix) {
  const std::string dir = ::testing::TempDir() + "/" + prefix + "_" + std::to_string(getpid()) +
                          "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  char* end = nullptr;
  long long x = std::strtoll(v, &end, 10);
  return (end && *end == '\0') ? x : def;
}

uint64_t TestSeed() {
  static const uint64_t seed = [] {
    uint64_t s = static_cast<uint64_t>(EnvInt("IMMUDB_TEST_SEED", 20261122));
    std::fprintf(stderr, "test seed: %llu (set IMMUDB_TEST_SEED to replay)\n",
                 static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

bool FlipByte(const std::string& path, uint64_t off, uint8_t mask) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekg(static_cast<std::streamoff>(off));
  char c;
  if (!f.get(c)) return false;
  f.seekp(static_cast<std::streamoff>(off));
  f.put(static_cast<char>(c ^ static_cast<char>(mask)));
  return static_cast<bool>(f.flush());
}

}  // namespace immudb::testutil
