// immuadmin's offline backup and restore of a data directory
// (docs/immuadmin.md, "Offline backup and restore"): a snapshot of a stopped
// server's directory restores into a directory a new server opens with every
// key verifying; crafted archives (path escapes, links, devices, damage,
// truncation) are refused before anything is written; a directory in use by
// a running server is refused; the service is stopped and started through
// systemctl (a stub here) unless --manual-stop-start.
#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "admin_test_util.h"
#include "cmd/immuadmin/tar_gz.h"

namespace immudb::admin::testing {
namespace {

namespace fs = std::filesystem;
using client::testing::RunShell;

// ---- building archives by hand ----

void PutOctal(char* field, size_t width, uint64_t v) {
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (v & 7));
    v >>= 3;
  }
  field[width - 1] = '\0';
}

// One ustar header block (and the data, padded) for `name`.
std::string TarMember(const std::string& name, char type, const std::string& data = "",
                      const std::string& link = "", bool bad_checksum = false) {
  char h[512] = {};
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  PutOctal(h + 100, 8, type == '5' ? 0755 : 0644);
  PutOctal(h + 108, 8, 0);
  PutOctal(h + 116, 8, 0);
  PutOctal(h + 124, 12, data.size());
  PutOctal(h + 136, 12, 0);
  h[156] = type;
  std::memcpy(h + 157, link.data(), std::min<size_t>(link.size(), 100));
  std::memcpy(h + 257,
              "ustar\0"
              "00",
              8);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char ch : h) sum += ch;
  if (bad_checksum) sum += 1;
  PutOctal(h + 148, 7, sum);
  std::string out(h, sizeof(h));
  out += data;
  out.append((512 - data.size() % 512) % 512, '\0');
  return out;
}

std::string TarEnd() { return std::string(1024, '\0'); }

std::string Gzip(const std::string& raw) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, raw.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Every file and directory below `root` with the files' contents, to show a
// directory did not change.
std::map<std::string, std::string> Snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string rel = e.path().string().substr(root.size());
    out[rel] = e.is_symlink() ? "link" : e.is_directory() ? "dir" : ReadAll(e.path().string());
  }
  return out;
}

class OfflineBackupTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    // immuadmin prints normalised absolute paths.
    dir_ = fs::path(dir_).lexically_normal().string();
    work_ = dir_ + "/work";
    fs::create_directories(work_);
  }

  // immuadmin run in the directory `cwd` (snapshots are written there).
  std::string RunIn(const std::string& cwd, const std::string& args, int* code,
                    const std::string& input, const std::string& env = "") {
    const std::string cmd = "cd " + cwd + " && printf '%s' '" + input + "' | HOME=" + dir_ +
                            "/home " + env + " " + BinDir() + "/immuadmin -p " +
                            std::to_string(server_->port()) + " " + args + " 2>&1";
    return RunShell(cmd, code);
  }

  // The names in `dir`, sorted.
  static std::vector<std::string> Names(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<client::Client> ConnectTo(int port, const std::string& state_dir) {
    fs::create_directories(state_dir);
    client::Options o;
    o.port = port;
    o.state_dir = state_dir;
    auto c = client::Client::Open(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    EXPECT_TRUE((*c)->Login("immudb", "immudb").ok());
    return std::move(c).value();
  }

  // Writes keys into defaultdb and a second database, then stops the server.
  void PopulateAndStop() {
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(c->VerifiedSet("key" + std::to_string(i), "value" + std::to_string(i)).ok());
    }
    ASSERT_TRUE(client::CreateDatabase(*c, "second", {}).ok());
    ASSERT_TRUE(c->UseDatabase("second").ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(c->VerifiedSet("s" + std::to_string(i), "v" + std::to_string(i)).ok());
    }
    auto st = c->CurrentState();
    ASSERT_TRUE(st.ok());
    second_alh_ = st->tx_hash;
    c.reset();
    server_->Stop();
  }

  // Every key PopulateAndStop wrote reads back with a verified get.
  void ExpectAllKeys(client::Client& c) {
    ASSERT_TRUE(c.UseDatabase("defaultdb").ok());
    for (int i = 0; i < 20; ++i) {
      auto e = c.VerifiedGet("key" + std::to_string(i));
      ASSERT_TRUE(e.ok()) << i << ": " << e.status().ToString();
      EXPECT_EQ(e->value, "value" + std::to_string(i));
    }
    ASSERT_TRUE(c.UseDatabase("second").ok());
    for (int i = 0; i < 3; ++i) {
      auto e = c.VerifiedGet("s" + std::to_string(i));
      ASSERT_TRUE(e.ok()) << i << ": " << e.status().ToString();
      EXPECT_EQ(e->value, "v" + std::to_string(i));
    }
    auto st = c.CurrentState();
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->tx_hash, second_alh_);
  }

  // Starts a server on the data directory `root`/data and checks every key
  // PopulateAndStop wrote through it, with the client state in `state`.
  void ExpectServedFrom(const std::string& root, const std::string& state) {
    ServerProcess restored(root);
    std::string error;
    ASSERT_TRUE(restored.Start(&error)) << error;
    auto c = ConnectTo(restored.port(), state);
    ASSERT_NE(c, nullptr);
    ExpectAllKeys(*c);
  }

  // Makes an offline backup of the fixture's (stopped) data directory into
  // work_ and returns its path.
  std::string MakeBackup(const std::string& extra = "") {
    int code = -1;
    const std::string out =
        RunIn(work_, "backup --dbdir " + dir_ + "/server/data --manual-stop-start " + extra, &code,
              "y\n");
    EXPECT_EQ(code, 0) << out;
    const std::string marker = "Database backup created: ";
    const size_t at = out.find(marker);
    if (at == std::string::npos) return "";
    std::string path = out.substr(at + marker.size());
    path = path.substr(0, path.find('\n'));
    return path;
  }

  std::string work_;
  Hash second_alh_{};
};

TEST_F(OfflineBackupTest, ArchiveRoundTripRestoresIntoNewDirAndEveryKeyVerifies) {
  ASSERT_NO_FATAL_FAILURE(PopulateAndStop());
  const std::string archive = MakeBackup();
  ASSERT_TRUE(archive.starts_with(work_ + "/data_bkp_")) << archive;
  ASSERT_TRUE(archive.ends_with(".tar.gz")) << archive;
  EXPECT_EQ(Mode(archive), 0600);
  EXPECT_EQ(Names(work_), std::vector<std::string>{fs::path(archive).filename().string()});

  // The member layout: one top-level directory named after the archive,
  // the data directory's tree below it, no server identity file.
  std::vector<std::string> members;
  struct Lister : archive::ArchiveVisitor {
    std::vector<std::string>* out;
    Status Directory(const std::string& p, uint32_t) override {
      out->push_back(p + "/");
      return Status::OK();
    }
    Status FileBegin(const std::string& p, uint32_t, uint64_t) override {
      out->push_back(p);
      return Status::OK();
    }
    Status FileData(const char*, size_t) override { return Status::OK(); }
    Status FileEnd() override { return Status::OK(); }
  } lister;
  lister.out = &members;
  std::string top;
  ASSERT_TRUE(archive::ReadTarGz(archive, &lister, &top).ok());
  EXPECT_EQ(top + ".tar.gz", fs::path(archive).filename().string());
  EXPECT_EQ(members.front(), top + "/");
  EXPECT_NE(std::find(members.begin(), members.end(), top + "/defaultdb/IMMUDB_STORE"),
            members.end());
  EXPECT_NE(std::find(members.begin(), members.end(), top + "/second/tx/"), members.end());
  EXPECT_EQ(std::find(members.begin(), members.end(), top + "/immudb.identifier"), members.end());

  fs::create_directories(dir_ + "/restored");
  int code = -1;
  std::string out =
      RunIn(work_, "restore " + archive + " --dbdir " + dir_ + "/restored/data --manual-stop-start",
            &code, "y\n");
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "database 'defaultdb': 20 transactions verified: OK")) << out;
  EXPECT_TRUE(Contains(out, "database 'second': 3 transactions verified: OK")) << out;
  EXPECT_TRUE(Contains(out, "Database restored from backup " + archive)) << out;
  EXPECT_FALSE(Contains(out, "A backup of the previous database")) << out;
  EXPECT_EQ(Names(dir_ + "/restored"), std::vector<std::string>{"data"});

  ExpectServedFrom(dir_ + "/restored", dir_ + "/state-restored");
}

// A restore over an existing data directory keeps the old one aside and the
// server's identity; the server started on it again serves every key.
TEST_F(OfflineBackupTest, RestoreOverExistingDirKeepsItAsideAndKeepsIdentity) {
  ASSERT_NO_FATAL_FAILURE(PopulateAndStop());
  const std::string data = dir_ + "/server/data";
  const std::string id = ReadAll(data + "/immudb.identifier");
  ASSERT_FALSE(id.empty());
  const std::string archive = MakeBackup();
  ASSERT_FALSE(archive.empty());
  const auto before = Snapshot(data);

  int code = -1;
  std::string out = RunIn(work_, "restore " + archive + " --dbdir " + data + " --manual-stop-start",
                          &code, "y\n");
  ASSERT_EQ(code, 0) << out;
  const std::string marker = "A backup of the previous database has been also created: ";
  const size_t at = out.find(marker);
  ASSERT_NE(at, std::string::npos) << out;
  std::string aside = out.substr(at + marker.size());
  aside = aside.substr(0, aside.find('\n'));
  EXPECT_TRUE(aside.starts_with(data + "_bkp_before_restore_")) << aside;
  EXPECT_EQ(Snapshot(aside), before);
  EXPECT_EQ(ReadAll(data + "/immudb.identifier"), id);

  ASSERT_NO_FATAL_FAILURE(StartServer());
  auto c = ConnectTo(server_->port(), dir_ + "/state-again");
  ASSERT_NE(c, nullptr);
  ExpectAllKeys(*c);
}

TEST_F(OfflineBackupTest, UncompressedRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(PopulateAndStop());
  const std::string copy = MakeBackup("--uncompressed");
  ASSERT_TRUE(copy.starts_with(work_ + "/data_bkp_")) << copy;
  ASSERT_TRUE(fs::is_directory(copy)) << copy;
  EXPECT_FALSE(fs::exists(copy + "/immudb.identifier"));
  auto original = Snapshot(dir_ + "/server/data");
  original.erase("/immudb.identifier");
  EXPECT_EQ(Snapshot(copy), original);

  fs::create_directories(dir_ + "/restored");
  int code = -1;
  const std::string out =
      RunIn(work_, "restore " + copy + " --dbdir " + dir_ + "/restored/data --manual-stop-start",
            &code, "y\n");
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "database 'second': 3 transactions verified: OK")) << out;
  ExpectServedFrom(dir_ + "/restored", dir_ + "/state-restored");
}

// Archives from other writers restore too: GNU tar's own format (magic
// "ustar  "), and immudb's layout with regular-file members only (the
// parent directories are implied).
TEST_F(OfflineBackupTest, RestoresGnuTarAndFileOnlyArchives) {
  ASSERT_NO_FATAL_FAILURE(PopulateAndStop());
  const std::string copy = MakeBackup("--uncompressed");
  ASSERT_FALSE(copy.empty());
  const std::string name = fs::path(copy).filename().string();
  int code = -1;
  const std::string gnu = dir_ + "/gnu.tar.gz";
  RunShell("tar --format=gnu -czf " + gnu + " -C " + work_ + " " + name, &code);
  ASSERT_EQ(code, 0);

  // immudb's shape: only the regular files, each under <top>/.
  std::string files_only;
  struct Repack : archive::ArchiveVisitor {
    std::string* out;
    std::string path, data;
    Status Directory(const std::string&, uint32_t) override { return Status::OK(); }
    Status FileBegin(const std::string& p, uint32_t, uint64_t) override {
      path = p;
      data.clear();
      return Status::OK();
    }
    Status FileData(const char* d, size_t n) override {
      data.append(d, n);
      return Status::OK();
    }
    Status FileEnd() override {
      *out += TarMember(path, '0', data);
      return Status::OK();
    }
  } repack;
  repack.out = &files_only;
  ASSERT_TRUE(archive::ReadTarGz(gnu, &repack).ok());
  const std::string plain = dir_ + "/files-only.tar.gz";
  WriteAll(plain, Gzip(files_only + TarEnd()));

  for (const std::string& file : {gnu, plain}) {
    SCOPED_TRACE(file);
    const std::string dest = dir_ + "/from-" + fs::path(file).stem().stem().string();
    fs::create_directories(dest);
    const std::string out = RunIn(
        work_, "restore " + file + " --dbdir " + dest + "/data --manual-stop-start", &code, "y\n");
    ASSERT_EQ(code, 0) << out;
    EXPECT_TRUE(Contains(out, "database 'defaultdb': 20 transactions verified: OK")) << out;
    ExpectServedFrom(dest, dest + "/state");
  }
}

// Long paths use the ustar prefix field and read back whole; a path that
// does not fit is refused.
TEST(TarGzTest, LongPathsUseThePrefixField) {
  const std::string dir = ::testing::TempDir() + "/tar_gz_long_" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  WriteAll(dir + "/src", "payload");
  const std::string deep = "top/" + std::string(90, 'd') + "/" + std::string(60, 'e');
  const std::string file = deep + "/" + std::string(95, 'f');
  const int fd = ::open((dir + "/a.tar.gz").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  {
    auto w = archive::TarGzWriter::Open(fd);
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE((*w)->AddDirectory("top", 0755, 0).ok());
    EXPECT_TRUE((*w)->AddDirectory(deep, 0700, 0).ok());
    EXPECT_TRUE((*w)->AddFile(file, dir + "/src", 7, 0640, 0).ok());
    EXPECT_FALSE((*w)->AddFile("top/" + std::string(300, 'x'), dir + "/src", 7, 0640, 0).ok());
    EXPECT_FALSE((*w)->AddFile("top/../x", dir + "/src", 7, 0640, 0).ok());
    EXPECT_FALSE((*w)->AddFile("top/y", dir + "/src", 8, 0640, 0).ok());  // Wrong size.
    ASSERT_TRUE((*w)->Finish().ok());
  }
  ::close(fd);
  struct Collect : archive::ArchiveVisitor {
    std::vector<std::string> seen;
    std::string data;
    Status Directory(const std::string& p, uint32_t mode) override {
      seen.push_back(p + "/ " + std::to_string(mode));
      return Status::OK();
    }
    Status FileBegin(const std::string& p, uint32_t mode, uint64_t size) override {
      seen.push_back(p + " " + std::to_string(mode) + " " + std::to_string(size));
      return Status::OK();
    }
    Status FileData(const char* d, size_t n) override {
      data.append(d, n);
      return Status::OK();
    }
    Status FileEnd() override { return Status::OK(); }
  } collect;
  const Status st = archive::ReadTarGz(dir + "/a.tar.gz", &collect);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(collect.seen, (std::vector<std::string>{"top/ 493", deep + "/ 448", file + " 416 7"}));
  EXPECT_EQ(collect.data, "payload");
  fs::remove_all(dir);
}

// Each crafted archive is refused before anything is written: the target
// directory is unchanged, no temporary directory is left, and nothing
// appears outside it.
TEST_F(OfflineBackupTest, CraftedArchivesAreRefusedAndNothingIsWritten) {
  ASSERT_NO_FATAL_FAILURE(PopulateAndStop());
  const std::string good = MakeBackup();
  ASSERT_FALSE(good.empty());
  const std::string good_bytes = ReadAll(good);
  const std::string target = dir_ + "/target";
  fs::create_directories(target + "/data/defaultdb");
  WriteAll(target + "/data/defaultdb/marker", "old contents");
  const auto before = Snapshot(target);
  const std::string abs_victim = dir_ + "/abs-victim";

  const std::string ok_dir = TarMember("snap/", '5');
  std::string flipped = good_bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x40);
  struct Case {
    std::string name, bytes, message;
  };
  const std::vector<Case> cases = {
      {"dotdot", Gzip(ok_dir + TarMember("snap/../x", '0', "escape") + TarEnd()), "'..'"},
      {"dotdot-top", Gzip(TarMember("../x", '0', "escape") + TarEnd()), "'..'"},
      {"absolute", Gzip(ok_dir + TarMember(abs_victim, '0', "escape") + TarEnd()), "absolute path"},
      {"symlink", Gzip(ok_dir + TarMember("snap/etc", '2', "", "/etc") + TarEnd()),
       "symbolic link"},
      {"hardlink", Gzip(ok_dir + TarMember("snap/h", '1', "", "../../../../etc/passwd") + TarEnd()),
       "hard link"},
      {"fifo", Gzip(ok_dir + TarMember("snap/f", '6') + TarEnd()), "fifo"},
      {"device", Gzip(ok_dir + TarMember("snap/d", '3') + TarEnd()), "character device"},
      {"dot", Gzip(ok_dir + TarMember("snap/./x", '0', "x") + TarEnd()), "not normalised"},
      {"two-tops", Gzip(ok_dir + TarMember("other/x", '0', "x") + TarEnd()),
       "outside the top-level directory"},
      {"duplicate",
       Gzip(ok_dir + TarMember("snap/x", '0', "a") + TarMember("snap/x", '0', "b") + TarEnd()),
       "appears twice"},
      {"tar-checksum", Gzip(ok_dir + TarMember("snap/x", '0', "x", "", true) + TarEnd()),
       "checksum mismatch"},
      {"no-end-marker", Gzip(ok_dir + TarMember("snap/x", '0', "x")), "marker is missing"},
      {"short-member", Gzip(ok_dir + TarMember("snap/x", '0', "xyz").substr(0, 512)),
       "is incomplete"},
      {"truncated-gzip", good_bytes.substr(0, good_bytes.size() / 2), "truncated archive"},
      {"truncated-trailer", good_bytes.substr(0, good_bytes.size() - 3), "truncated archive"},
      {"flipped-byte", flipped, "archive"},
      {"trailing-bytes", good_bytes + "junk", "bytes after the gzip stream"},
      {"not-gzip", std::string(2048, 'x'), "damaged archive"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = work_ + "/" + c.name + ".tar.gz";
    WriteAll(file, c.bytes);
    int code = -1;
    const std::string out =
        RunIn(work_, "restore " + file + " --dbdir " + target + "/data --manual-stop-start", &code,
              "y\n");
    EXPECT_EQ(code, 1) << out;
    EXPECT_TRUE(Contains(out, c.message)) << out;
    // Refused before the confirmation is asked.
    EXPECT_FALSE(Contains(out, "Is it stopped?")) << out;
    EXPECT_EQ(Snapshot(target), before);
    EXPECT_FALSE(fs::exists(work_ + "/x"));
    EXPECT_FALSE(fs::exists(dir_ + "/x"));
    EXPECT_FALSE(fs::exists(abs_victim));
  }
  // The flipped byte is caught by zlib (deflate data or CRC-32) or a tar
  // header checksum; either way it is reported as a damaged or truncated
  // archive.
  int code = -1;
  const std::string out = RunIn(
      work_,
      "restore " + work_ + "/flipped-byte.tar.gz --dbdir " + target + "/data --manual-stop-start",
      &code, "y\n");
  EXPECT_TRUE(Contains(out, "damaged archive") || Contains(out, "truncated archive")) << out;

  // A well-formed archive whose directory holds no database store is
  // refused after extraction, and the target stays as it was.
  const std::string empty = work_ + "/nostore.tar.gz";
  WriteAll(empty, Gzip(ok_dir + TarMember("snap/readme", '0', "hello") + TarEnd()));
  const std::string out2 = RunIn(
      work_, "restore " + empty + " --dbdir " + target + "/data --manual-stop-start", &code, "y\n");
  EXPECT_EQ(code, 1) << out2;
  EXPECT_TRUE(Contains(out2, "the snapshot holds no database")) << out2;
  EXPECT_EQ(Snapshot(target), before);
}

// A store that fails offline verification is refused; the data directory
// stays as it was.
TEST_F(OfflineBackupTest, RestoreRefusesASnapshotThatFailsVerification) {
  ASSERT_NO_FATAL_FAILURE(PopulateAndStop());
  const std::string copy = MakeBackup("--uncompressed");
  ASSERT_FALSE(copy.empty());
  // Damage a value (values sit in the tx log): the tx's entry digest no
  // longer matches.
  std::string victim, bytes;
  size_t at = std::string::npos;
  for (const auto& e : fs::directory_iterator(copy + "/defaultdb/tx")) {
    bytes = ReadAll(e.path().string());
    at = bytes.find("value7");
    if (at != std::string::npos) {
      victim = e.path().string();
      break;
    }
  }
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'V';
  WriteAll(victim, bytes);
  const std::string data = dir_ + "/server/data";
  const auto before = Snapshot(dir_ + "/server");
  int code = -1;
  const std::string out =
      RunIn(work_, "restore " + copy + " --dbdir " + data + " --manual-stop-start", &code, "y\n");
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(Contains(out, "database 'defaultdb' failed verification")) << out;
  EXPECT_TRUE(Contains(out, "the database directory was not changed")) << out;
  EXPECT_EQ(Snapshot(dir_ + "/server"), before);
}

TEST_F(OfflineBackupTest, BackupRefusedWhileAServerUsesTheDirectory) {
  int code = -1;
  const std::string out =
      RunIn(work_, "backup --dbdir " + dir_ + "/server/data --manual-stop-start", &code, "y\n");
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(Contains(out, "is in use by a running immudb server")) << out;
  EXPECT_TRUE(Contains(out, "/LOCK")) << out;
  EXPECT_TRUE(Names(work_).empty());
  // Restoring over it is refused the same way, and it is left alone.
  server_->Stop();
  const std::string archive = MakeBackup();
  ASSERT_FALSE(archive.empty());
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const auto before = Snapshot(dir_ + "/server/data");
  const std::string out2 =
      RunIn(work_, "restore " + archive + " --dbdir " + dir_ + "/server/data --manual-stop-start",
            &code, "y\n");
  EXPECT_EQ(code, 1) << out2;
  EXPECT_TRUE(Contains(out2, "is in use by a running immudb server")) << out2;
  EXPECT_EQ(Names(dir_ + "/server"), (std::vector<std::string>{"data", "immudb.log"}));
}

TEST_F(OfflineBackupTest, BackupRefusesLinksAndTheWorkingDirectory) {
  const std::string dbdir = dir_ + "/linked";
  fs::create_directories(dbdir + "/defaultdb");
  WriteAll(dbdir + "/defaultdb/file", "x");
  fs::create_symlink("/etc", dbdir + "/defaultdb/etc");
  int code = -1;
  std::string out = RunIn(work_, "backup --dbdir " + dbdir + " --manual-stop-start", &code, "y\n");
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(Contains(out, "is a symbolic link: only regular files and directories")) << out;
  EXPECT_TRUE(Names(work_).empty());

  out = RunIn(work_, "backup --dbdir . --manual-stop-start", &code, "y\n");
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(Contains(out, "cannot use the current directory")) << out;
  // Answering no cancels.
  fs::remove(dbdir + "/defaultdb/etc");
  out = RunIn(work_, "backup --dbdir " + dbdir + " --manual-stop-start", &code, "n\n");
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(Contains(out, "Canceled")) << out;
  EXPECT_TRUE(Names(work_).empty());
}

// Without --manual-stop-start the service is stopped before and started
// after, once the sysadmin's password is checked (a stub systemctl records
// its calls; the login goes to the fixture's server).
TEST_F(OfflineBackupTest, ServiceIsStoppedAndStartedAroundBackupAndRestore) {
  const std::string bin = dir_ + "/stub-bin", log = dir_ + "/systemctl.log";
  fs::create_directories(bin);
  WriteAll(bin + "/systemctl", "#!/bin/sh\necho \"$*\" >> " + log + "\n[ -e " + dir_ +
                                   "/fail-stop ] && [ \"$1\" = stop ] && exit 5\nexit 0\n");
  fs::permissions(bin + "/systemctl", fs::perms::owner_all);
  const std::string env = "PATH=" + bin + ":/usr/bin:/bin";
  const std::string dbdir = dir_ + "/svc/data";
  fs::create_directories(dbdir + "/defaultdb");
  WriteAll(dbdir + "/defaultdb/file", "contents");

  int code = -1;
  std::string out = RunIn(work_, "backup --dbdir " + dbdir, &code, "y\nwrong\n", env);
  EXPECT_EQ(code, 1) << out;
  EXPECT_FALSE(fs::exists(log));  // A wrong password stops nothing.
  EXPECT_TRUE(Names(work_).empty());

  out = RunIn(work_, "backup --dbdir " + dbdir, &code, "y\nimmudb\n", env);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "will be stopped")) << out;
  EXPECT_EQ(ReadAll(log), "stop immudb\nstart immudb\n");
  ASSERT_EQ(Names(work_).size(), 1u);

  // systemctl stop failing: nothing is done and nothing is started.
  WriteAll(dir_ + "/fail-stop", "");
  fs::remove(log);
  out = RunIn(work_, "backup --dbdir " + dbdir + " -u", &code, "y\nimmudb\n", env);
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(Contains(out, "stopping the immudb service failed (systemctl exit code 5)")) << out;
  EXPECT_EQ(ReadAll(log), "stop immudb\n");
  EXPECT_EQ(Names(work_).size(), 1u);
  fs::remove(dir_ + "/fail-stop");

  // A failing restore still starts the service again.
  fs::remove(log);
  WriteAll(work_ + "/bad.tar.gz", Gzip(TarMember("snap/", '5') + TarEnd()));
  out =
      RunIn(work_, "restore " + work_ + "/bad.tar.gz --dbdir " + dbdir, &code, "y\nimmudb\n", env);
  EXPECT_EQ(code, 1) << out;  // The data directory holds no store.
  EXPECT_TRUE(Contains(out, "holds no database")) << out;
  EXPECT_EQ(ReadAll(log), "stop immudb\nstart immudb\n");
  EXPECT_EQ(ReadAll(dbdir + "/defaultdb/file"), "contents");
}

TEST_F(OfflineBackupTest, OnlineAndOfflineFlagsDoNotMix) {
  struct Case {
    const char* args;
    const char* input;
    const char* error;
  };
  const Case cases[] = {
      {"backup --db defaultdb --dbdir x", "", "do not mix"},
      {"backup --db defaultdb", "", "needs both --db and --file"},
      {"restore snap.tar.gz --file f --db d", "", "do not mix"},
      {"restore", "", "restore needs a snapshot"},
      {"restore snap.zip --manual-stop-start", "y\n", "No such file"},
  };
  for (const Case& c : cases) {
    int code = -1;
    const std::string out = RunIn(work_, c.args, &code, c.input);
    EXPECT_EQ(code, 1) << c.args;
    EXPECT_TRUE(Contains(out, c.error)) << c.args << ": " << out;
  }
  WriteAll(work_ + "/snap.zip", "PK");
  int code = -1;
  const std::string out = RunIn(work_, "restore snap.zip --manual-stop-start", &code, "y\n");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "unsupported format")) << out;
}

}  // namespace
}  // namespace immudb::admin::testing
