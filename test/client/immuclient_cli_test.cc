// build/bin/immuclient against a real build/bin/immudb: outputs of each
// command (wire-api.md §11.1), token and state files with mode 0600.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "immuclient_fixture.h"

namespace immudb::client {
namespace {

using testing::BinDir;
using testing::ClientImmuclientTest;
using testing::RunShell;

TEST_F(ClientImmuclientTest, SessionAndKeyValueCommands) {
  EXPECT_EQ(Run("status"), "Health check OK\n");
  EXPECT_EQ(Run("version"), "immuclient " IMMUDB_VERSION_STRING "\n");
  int code = 0;
  std::string out = Run("set k v", &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("not logged in"), std::string::npos) << out;

  out = Run("login immudb", &code, "immudb\n");
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(out.starts_with("Successfully logged in\n")) << out;
  EXPECT_EQ(Mode(dir_ + "/home/token"), 0600);

  EXPECT_EQ(Run("current"), "database 'defaultdb' is empty\n");
  EXPECT_EQ(Run("safeset k1 v1"),
            "tx:       1\nrev:      1\nkey:      k1\nvalue:    v1\nverified: true\n");
  EXPECT_EQ(Run("set k1 v2"), "tx:       2\nrev:      2\nkey:      k1\nvalue:    v2\n");
  EXPECT_EQ(Run("set k2", nullptr, "from stdin"),
            "tx:       3\nrev:      1\nkey:      k2\nvalue:    from stdin\n");
  EXPECT_EQ(Run("get k1"), "tx:       2\nrev:      2\nkey:      k1\nvalue:    v2\n");
  EXPECT_EQ(Run("get k1@1"), "tx:       1\nrev:      1\nkey:      k1\nvalue:    v1\n");
  EXPECT_EQ(Run("--value-only get k1"), "v2\n");
  // Global flags are accepted after the command too.
  EXPECT_EQ(Run("get k1 --value-only"), "v2\n");
  EXPECT_EQ(Run("safeget k1"),
            "tx:       2\nrev:      2\nkey:      k1\nvalue:    v2\nverified: true\n");
  EXPECT_EQ(Run("get nope"), "key not found: nope\n");
  EXPECT_EQ(Run("history k1"),
            "tx:       1\nrev:      1\nkey:      k1\nvalue:    v1\n\n"
            "tx:       2\nrev:      2\nkey:      k1\nvalue:    v2\n");
  EXPECT_EQ(Run("--value-only scan k"), "v2\nfrom stdin\n");
  EXPECT_EQ(Run("scan zz"), "no entries\n");
  EXPECT_EQ(Run("count k"), "2\n");

  out = Run("tx 2");
  EXPECT_TRUE(out.starts_with("tx:\t\t2\ntime:\t\t")) << out;
  EXPECT_NE(out.find("\nentries:\t1\nhash:\t\t"), std::string::npos) << out;
  out = Run("safetx 2");
  EXPECT_TRUE(out.ends_with("verified:\ttrue \n")) << out;
  EXPECT_EQ(Run("tx 99"), "no item exists in id:99\n");
  out = Run("current");
  EXPECT_TRUE(out.starts_with("database:  defaultdb\ntxID:      3\nhash:      ")) << out;
  EXPECT_EQ(out.size(),
            std::string("database:  defaultdb\ntxID:      3\nhash:      \n").size() + 64);

  // The trusted state is in $HOME with mode 0600.
  int states = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_ + "/home")) {
    const std::string name = f.path().filename().string();
    if (name.starts_with(".immudb-state-") && !name.ends_with(".lock")) {
      ++states;
      EXPECT_EQ(Mode(f.path().string()), 0600);
    }
  }
  EXPECT_EQ(states, 1);

  EXPECT_EQ(Run("use defaultdb"), "Now using defaultdb\n");
  EXPECT_EQ(Run("logout"), "Successfully logged out\n");
  EXPECT_EQ(Run("logout"), "User not logged in\n");
}

// `login` without a username logs in as --username, as immudb's does.
TEST_F(ClientImmuclientTest, LoginWithoutUsernameUsesTheUsernameFlag) {
  int code = 0;
  std::string out = Run("login", &code, "immudb\n");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "immuclient: please specify a username (login <username> or --username)\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/home/token"));

  out = Run("--username immudb login", &code, "immudb\n");
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("Successfully logged in\n")) << out;
  EXPECT_EQ(Run("current"), "database 'defaultdb' is empty\n");
  EXPECT_EQ(Run("logout"), "Successfully logged out\n");
  // With the password from --password too, and the flag after the command.
  out = Run("login --username immudb --password immudb", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("Successfully logged in\n")) << out;
  // The argument wins over --username.
  out = Run("--username nobody login immudb", &code, "immudb\n");
  EXPECT_EQ(code, 0) << out;
  out = Run("--username nobody login", &code, "immudb\n");
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(out.starts_with("immuclient: ")) << out;
}

TEST_F(ClientImmuclientTest, FlagsFromEnvironmentAndAutoLogin) {
  const std::string env = "IMMUCLIENT_USERNAME=immudb IMMUCLIENT_PASSWORD=immudb ";
  // Without a token file or credentials the command fails.
  int code = 0;
  std::string out = Run("--tokenfile " + dir_ + "/tok --dir " + dir_ + " safeset a b", &code);
  EXPECT_NE(code, 0) << out;
  // With credentials and the port from IMMUCLIENT_* it logs in by itself.
  const std::string cmd = "env " + env + "HOME=" + dir_ +
                          "/home IMMUCLIENT_IMMUDB_PORT=" + std::to_string(server_->port()) + " " +
                          BinDir() + "/immuclient --dir " + dir_ + " safeset a b 2>&1";
  out = RunShell(cmd, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "tx:       1\nrev:      1\nkey:      a\nvalue:    b\nverified: true\n");
}

TEST_F(ClientImmuclientTest, ConfigFileGivesDefaultsBelowFlagsAndEnvironment) {
  // immuclient.toml as immudb's: keys are the long flag names.
  const std::string cfg = dir_ + "/immuclient.toml";
  std::ofstream(cfg) << "immudb-port = " << server_->port() << "\n"
                     << "username = \"immudb\"\npassword = \"immudb\"\n"
                     << "value-only = true\n"
                     << "tokenfile = \"" << dir_ << "/tok\"\n";
  const std::string base = "env HOME=" + dir_ + "/home " + BinDir() + "/immuclient ";
  auto run = [](const std::string& cmd, int* code) { return RunShell(cmd + " 2>&1", code); };
  int code = 0;
  // Port, credentials and --value-only all from the file.
  EXPECT_EQ(run(base + "--config " + cfg + " set k v1", &code), "v1\n");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(run(base + "--config=" + cfg + " get k", &code), "v1\n");
  // A flag wins over the file: a wrong port fails.
  run(base + "--config " + cfg + " -p 1 get k", &code);
  EXPECT_NE(code, 0);
  // The environment wins over the file too.
  run("IMMUCLIENT_IMMUDB_PORT=1 " + base + "--config " + cfg + " get k", &code);
  EXPECT_NE(code, 0);
  // An unknown key or a missing file is an error, and nothing runs.
  const std::string bad = dir_ + "/bad.toml";
  std::ofstream(bad) << "no-such-flag = 1\n";
  std::string out = run(base + "--config " + bad + " set k v2", &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("unknown setting 'no-such-flag'"), std::string::npos) << out;
  out = run(base + "--config " + dir_ + "/missing.toml get k", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_EQ(run(base + "--config " + cfg + " get k", &code), "v1\n");
}

TEST_F(ClientImmuclientTest, ReferencesSortedSetsDeleteAndChecks) {
  const std::string login = "--username immudb --password immudb ";
  EXPECT_EQ(Run(login + "set a 1"), "tx:       1\nrev:      1\nkey:      a\nvalue:    1\n");
  EXPECT_EQ(Run(login + "reference ra a"), "tx:       2\nkey:      ra\nvalue:    a\n");
  EXPECT_EQ(Run(login + "safereference rb a"),
            "tx:       3\nkey:      rb\nvalue:    a\nverified: true\n");
  EXPECT_EQ(Run(login + "get rb"), "tx:       1\nrev:      1\nkey:      a\nvalue:    1\n");
  std::string out = Run(login + "zadd team 1.5 a");
  EXPECT_TRUE(
      out.starts_with("tx:\t\t4\nset:\t\tteam\nreferenced key:\t\ta\n"
                      "score:\t\t1.500000\nhash:\t\t"))
      << out;
  EXPECT_TRUE(out.ends_with("\nverified:\tfalse\n")) << out;
  out = Run(login + "safezadd team 2 a");
  EXPECT_TRUE(out.starts_with("tx:\t\t5\nset:\t\tteam\n")) << out;
  EXPECT_TRUE(out.ends_with("\nverified:\ttrue\n")) << out;
  EXPECT_EQ(Run(login + "--value-only zscan team"), "1\n1\n");
  EXPECT_EQ(Run(login + "zscan nobody"), "no entries\n");
  EXPECT_EQ(Run(login + "delete a"), "key successfully deleted\n");
  EXPECT_EQ(Run(login + "get a"), "key not found: a\n");
  EXPECT_EQ(Run(login + "restore a@1"), "tx:       7\nrev:      3\nkey:      a\nvalue:    1\n");
  EXPECT_TRUE(Run(login + "info").starts_with("version:\t")) << Run(login + "info");
  EXPECT_TRUE(Run(login + "health").starts_with("pendingRequests:\t\t"));

  // check-consistency: the hash of tx 2 from `tx 2` is on the chain.
  out = Run(login + "tx 2");
  const size_t at = out.find("hash:\t\t");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string hash = out.substr(at + 7, 64);
  int code = 0;
  out = Run(login + "check-consistency 2 " + hash, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(
      out.starts_with("tx 2 is consistent with the server's state\ndatabase:  defaultdb\n"
                      "txID:      7\n"))
      << out;
  std::string forged = hash;
  forged[0] = forged[0] == '0' ? '1' : '0';
  out = Run(login + "check-consistency 2 " + forged, &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("tampering detected"), std::string::npos) << out;

  // Bad input: a clear error, nothing written.
  out = Run(login + "zadd team notanumber a", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "immuclient: invalid score: notanumber\n");
  out = Run(login + "check-consistency 2 abc", &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("invalid hash"), std::string::npos) << out;
  out = Run(login + "restore a", &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("please specify the key with revision"), std::string::npos) << out;
  out = Run(login + "current");
  EXPECT_TRUE(out.starts_with("database:  defaultdb\ntxID:      7\n")) << out;
}

// Many immuclient processes running verified commands on one state file at
// once: each waits for the file lock, so none sees a state stored by another
// as going backwards and the file stays well-formed.
TEST_F(ClientImmuclientTest, ConcurrentProcessesShareTheStateFile) {
  EXPECT_EQ(
      Run("--username immudb --password immudb --dir " + dir_ + " safeset k0 v0").size(),
      std::string("tx:       1\nrev:      1\nkey:      k0\nvalue:    v0\nverified: true\n").size());
  constexpr int kProcs = 12;
  std::string script;
  for (int i = 1; i <= kProcs; ++i) {
    const std::string n = std::to_string(i);
    script += "(HOME=" + dir_ + "/home " + BinDir() + "/immuclient -p " +
              std::to_string(server_->port()) + " --username immudb --password immudb --dir " +
              dir_ + " safeset k" + n + " v" + n + " >" + dir_ + "/out." + n +
              " 2>&1 </dev/null; echo $? >" + dir_ + "/rc." + n + ") & ";
  }
  script += "wait";
  ASSERT_EQ(std::system(script.c_str()), 0);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  for (int i = 1; i <= kProcs; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ(read(dir_ + "/rc." + n), "0\n") << read(dir_ + "/out." + n);
    EXPECT_TRUE(read(dir_ + "/out." + n).ends_with("value:    v" + n + "\nverified: true\n"))
        << read(dir_ + "/out." + n);
  }
  std::string state;
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    const std::string name = f.path().filename().string();
    if (name.starts_with(".immudb-state-") && !name.ends_with(".lock")) state = read(f.path());
  }
  EXPECT_TRUE(state.starts_with("immudb-client-state 1\nserver ")) << state;
  EXPECT_NE(state.find("\nstate defaultdb " + std::to_string(kProcs + 1) + " "), std::string::npos)
      << state;
}

// The sysadmin selects systemdb and reads the users with verified reads;
// writes there are refused.
TEST_F(ClientImmuclientTest, SysadminReadsSystemDbVerified) {
  int code = 0;
  Run("login immudb", &code, "immudb\n");
  ASSERT_EQ(code, 0);
  std::string out = Run("use systemdb", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "Now using systemdb\n");
  const std::string user_key = "\"$(printf '\\001')immudb\"";
  out = Run("safeget " + user_key, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"username\":\"immudb\""), std::string::npos) << out;
  EXPECT_NE(out.find("verified: true"), std::string::npos) << out;
  out = Run("current", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("database:  systemdb\ntxID:      1\n"), std::string::npos) << out;
  out = Run("set k v", &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("permission denied"), std::string::npos) << out;
  // The trusted state did not move: nothing was written.
  out = Run("current", &code);
  EXPECT_NE(out.find("txID:      1\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace immudb::client
