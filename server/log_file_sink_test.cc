#include "server/log_file_sink.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace immudb::server {
namespace {

namespace fs = std::filesystem;

std::string Scratch(const std::string& name) {
  const std::string d =
      ::testing::TempDir() + "/immudb_logsink_" + name + "_" + std::to_string(getpid());
  fs::remove_all(d);
  return d;
}

std::set<std::string> Files(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SegmentedFileSinkTest, RotatesBySize) {
  const std::string dir = Scratch("size");
  auto sink = SegmentedFileSink::Open(dir + "/logs/immudb.log", 100, 0);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  spdlog::logger log("t", *sink);
  log.set_pattern("%v");
  for (int i = 0; i < 10; ++i) log.info("message number {:02d} 0123456789", i);  // 29 bytes.
  log.flush();
  // 3 messages (87 bytes) fit in 100: segments of 3, 3, 3 and 1.
  EXPECT_EQ(Files(dir + "/logs"), (std::set<std::string>{"immudb.log", "immudb.log.0001",
                                                         "immudb.log.0002", "immudb.log.0003"}));
  EXPECT_EQ(Read(dir + "/logs/immudb.log").size(), 87u);
  EXPECT_EQ(Read(dir + "/logs/immudb.log.0003"), "message number 09 0123456789\n");
  // A message larger than the limit still goes into an empty segment.
  log.info("{}", std::string(150, 'x'));
  log.flush();
  EXPECT_EQ(Files(dir + "/logs").size(), 5u);
  EXPECT_EQ(Read((*sink)->current_path()).size(), 151u);

  // A restart never appends to an existing segment.
  auto again = SegmentedFileSink::Open(dir + "/logs/immudb.log", 100, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->current_path(), dir + "/logs/immudb.log.0005");
  fs::remove_all(dir);
}

TEST(SegmentedFileSinkTest, RotatesByAgeWindow) {
  const std::string dir = Scratch("age");
  int64_t now_ms = int64_t{1700000000} * 1000 + 30 * 1000;  // 2023-11-14T22:13:50Z.
  auto sink = SegmentedFileSink::Open(dir + "/immudb.log", 0, 60 * 1000, [&] { return now_ms; });
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  spdlog::logger log("t", *sink);
  log.set_pattern("%v");
  log.info("first");
  now_ms += 5 * 1000;  // Same minute.
  log.info("second");
  now_ms += 60 * 1000;  // Next minute.
  log.info("third");
  log.flush();
  EXPECT_EQ(Files(dir), (std::set<std::string>{"immudb_2023-11-14T22:13:00Z.log",
                                               "immudb_2023-11-14T22:14:00Z.log"}));
  EXPECT_EQ(Read(dir + "/immudb_2023-11-14T22:13:00Z.log"), "first\nsecond\n");
  EXPECT_EQ(Read(dir + "/immudb_2023-11-14T22:14:00Z.log"), "third\n");
  fs::remove_all(dir);
}

TEST(SegmentedFileSinkTest, UnwritableDirectoryIsAnError) {
  EXPECT_FALSE(SegmentedFileSink::Open("/proc/immudb-no-such/immudb.log", 10, 0).ok());
  EXPECT_FALSE(SegmentedFileSink::Open("", 10, 0).ok());
}

}  // namespace
}  // namespace immudb::server
