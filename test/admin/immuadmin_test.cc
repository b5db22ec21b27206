// build/bin/immuadmin against a real build/bin/immudb: login/logout, status,
// users, permissions, databases, dump, verify and service install
// (wire-api.md §11.2).
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "admin_test_util.h"
#include "client/admin.h"
#include "immudb/database.h"

namespace immudb::admin::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

using AdminCliTest = AdminTest;

TEST_F(AdminCliTest, LoginStatusLogout) {
  int code = 0;
  EXPECT_EQ(RunFailing("user list"), "immuadmin: please login first\n");

  std::string out = Run("login alice", &code, "whatever\n");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "immuadmin: Permission denied: user alice has no admin rights\n");
  out = Run("login immudb", &code, "wrong\n");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "invalid user name or password")) << out;
  EXPECT_EQ(Mode(dir_ + "/home/token_admin"), -1);

  out = Run("login immudb", &code, "immudb\n");
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(out.starts_with("logged in\nSECURITY WARNING: immudb user has the default password"))
      << out;
  EXPECT_EQ(Mode(dir_ + "/home/token_admin"), 0600);

  out = Run("status", &code);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(
      out.starts_with("Status:\t\tOK - server is reachable and responding to queries\n"
                      "Version:\t"))
      << out;
  EXPECT_TRUE(Contains(out, "\nDatabases:\t1 (")) << out;
  EXPECT_TRUE(Contains(out, "\nTransactions:\t0\n")) << out;

  EXPECT_EQ(Run("logout", &code), "logged out\n");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Mode(dir_ + "/home/token_admin"), -1);
  EXPECT_EQ(Run("logout"), "not logged in\n");
}

// The short names of immudb's immuadmin.
TEST_F(AdminCliTest, Aliases) {
  int code = -1;
  std::string out = Run("l immudb", &code, "immudb\n");
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("logged in\n")) << out;
  out = Run("u list", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("1 user(s)\n")) << out;
  for (const char* cmd : {"d l", "database l", "d list"}) {
    out = Run(cmd, &code);
    EXPECT_EQ(code, 0) << cmd << ": " << out;
    EXPECT_TRUE(out.starts_with("DATABASE NAME ")) << cmd << ": " << out;
  }
  out = Run("p", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("Status:\t\tOK")) << out;
  ExpectFailure("s -t --metrics-port " + std::to_string(FreePort()),
                "cannot reach the metrics server");
  EXPECT_EQ(Run("x", &code), "logged out\n");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Mode(dir_ + "/home/token_admin"), -1);
}

// Logging in with the default password asks for a new one (twice) when
// there is more input; without it only the warning is printed.
TEST_F(AdminCliTest, LoginWithTheDefaultPasswordChangesIt) {
  const std::string warning =
      "logged in\nSECURITY WARNING: immudb user has the default password: please change it to "
      "ensure proper security (immuadmin user changepassword immudb)\n";
  int code = -1;
  EXPECT_EQ(Run("login immudb", &code, "immudb\n"), warning);
  EXPECT_EQ(code, 0);
  std::string out = Run("login immudb", &code, "immudb\nNew_Admin3!\nOther_Admin4!\n");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, warning + "immuadmin: Passwords don't match\n");
  out = Run("login immudb", &code, "immudb\nweak\nweak\n");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "password does not meet the requirements")) << out;
  out = Run("login immudb", &code, "immudb\nNew_Admin3!\n");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "no password confirmation given on stdin")) << out;
  ASSERT_NE(Connect("immudb", "immudb"), nullptr);  // Nothing changed so far.

  out = Run("login immudb", &code, "immudb\nNew_Admin3!\nNew_Admin3!\n");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, warning + "immudb's password has been changed\n");
  // The saved session is the new login's.
  out = Run("u list", &code);
  EXPECT_EQ(code, 0) << out;
  auto c = Connect("immudb", "New_Admin3!");
  EXPECT_NE(c, nullptr);
  out = Run("login immudb", &code, "immudb\n");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "invalid user name or password")) << out;
  // No warning with another password: nothing more is read.
  EXPECT_EQ(Run("--password New_Admin3! login immudb", &code, "Unused_5!\nUnused_5!\n"),
            "logged in\n");
  EXPECT_EQ(code, 0);
}

TEST_F(AdminCliTest, UserCommands) {
  Login();
  int code = 0;
  const std::string twice = std::string(kStrongPassword) + "\n" + kStrongPassword + "\n";
  std::string out = Run("user create alice read defaultdb", &code, twice);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "Created user alice\n");
  out = Run("user create bob read defaultdb", &code, "weak\nweak\n");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "password does not meet the requirements")) << out;
  // The confirmation must repeat the password, and must be there.
  out = Run("user create bob read defaultdb", &code,
            std::string(kStrongPassword) + "\nOther_Pass2\n");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "immuadmin: Passwords don't match\n");
  out = Run("user create bob read defaultdb", &code, std::string(kStrongPassword) + "\n");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "immuadmin: no password confirmation given on stdin\n");
  out = Run("user create bob superuser defaultdb", &code, twice);
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "unknown permission 'superuser'")) << out;
  out = Run("user create bob sysadmin defaultdb", &code, twice);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out,
            "immuadmin: permission sysadmin can not be given: this server has a single system "
            "admin (immudb)\n");
  out = Run("user create alice read defaultdb", &code, twice);
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "user already exists")) << out;

  // immudb's table: the caption, bordered header, one numbered row per
  // permission (users by name); immudb has one row (System Admin on *).
  out = Run("user list");
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), 7u) << out;
  EXPECT_EQ(lines[0], "2 user(s)");
  EXPECT_TRUE(lines[1].starts_with("-  ------  ------  ---------  ------------  ----------  ---"))
      << out;
  EXPECT_TRUE(
      lines[2].starts_with("#  User    Active  Database   Permission    Created By  Created At"))
      << out;
  EXPECT_EQ(lines[3], lines[1]);
  EXPECT_TRUE(lines[4].starts_with("1  alice   true    defaultdb  Read          immudb      "))
      << out;
  EXPECT_TRUE(lines[5].starts_with("2  immudb  true    *          System Admin  immudb      "))
      << out;
  EXPECT_EQ(lines[6], lines[1]);
  EXPECT_FALSE(Contains(out, "bob")) << out;

  EXPECT_EQ(Run("user permission grant alice readwrite defaultdb"),
            "Permission changed successfully\n");
  EXPECT_TRUE(Contains(Run("user list"), " defaultdb  Read/Write "));
  ASSERT_EQ(Run("database create db1").substr(0, 14), "database 'db1'");
  EXPECT_EQ(Run("user permission grant alice admin db1"), "Permission changed successfully\n");
  out = Run("user list");
  EXPECT_TRUE(out.starts_with("2 user(s)\n")) << out;
  // A second permission is a row of its own, without the user's columns.
  EXPECT_TRUE(Contains(out, "\n1  alice   true    db1        Admin         immudb      ")) << out;
  EXPECT_TRUE(
      Contains(out, "\n2                  defaultdb  Read/Write    " + std::string(12, ' ')))
      << out;
  EXPECT_TRUE(Contains(out, "\n3  immudb  true    *          System Admin  ")) << out;
  ExpectFailure("user permission grant alice sysadmin db1", "permission sysadmin can not be given");
  ExpectFailure("user permission grant immudb read defaultdb",
                "changing your own permissions is not allowed");

  EXPECT_EQ(Run("user deactivate alice"), "User status changed successfully\n");
  EXPECT_TRUE(Contains(Run("user list"), "  alice   false   "));
  {
    client::Options o;
    o.port = server_->port();
    o.state_dir = dir_ + "/home";
    auto c = client::Client::Open(o);
    ASSERT_TRUE(c.ok());
    Status st = (*c)->Login("alice", kStrongPassword);
    EXPECT_TRUE(Contains(st.message(), "user is not active")) << st.ToString();
  }
  EXPECT_EQ(Run("user activate alice"), "User status changed successfully\n");

  out = Run("user changepassword alice", &code, "New_Secret2\nNew_Secret3\n");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "immuadmin: Passwords don't match\n");
  EXPECT_EQ(Run("user changepassword alice", nullptr, "New_Secret2\nNew_Secret2\n"),
            "alice's password has been changed\n");
  auto alice = Connect("alice", "New_Secret2");
  ASSERT_NE(alice, nullptr);
  // The sysadmin's own password needs the old one first.
  out = Run("user changepassword immudb", &code, "wrong\nNew_Admin3!\nNew_Admin3!\n");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "old password is incorrect")) << out;
}

TEST_F(AdminCliTest, ReadOnlyUserCannotAdminister) {
  Login();
  ASSERT_EQ(Run("user create reader read defaultdb", nullptr,
                std::string(kStrongPassword) + "\n" + kStrongPassword + "\n"),
            "Created user reader\n");
  ASSERT_EQ(Run("database create db1"),
            "database 'db1' {maxKeyLen: 1024, maxValueLen: 33554432, maxTxEntries: 1024, "
            "fileSize: 536870912, excludeCommitTime: false, autoload: true, "
            "writeTxHeaderVersion: 1, replica: false} successfully created\n");
  auto reader = Connect("reader", kStrongPassword);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->UseDatabase("defaultdb").ok());

  Status st =
      client::CreateUser(*reader, "mallory", kStrongPassword, client::kPermRead, "defaultdb");
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.message(), "you do not have permission on this database"))
      << st.ToString();
  st = client::ChangePermission(*reader, true, "immudb", "defaultdb", client::kPermAdmin);
  EXPECT_FALSE(st.ok());
  st = client::UnloadDatabase(*reader, "db1");
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.message(), "do not have admin permission")) << st.ToString();
  auto created = client::CreateDatabase(*reader, "db2", {});
  EXPECT_FALSE(created.ok());

  // Nothing changed.
  const std::string users = Run("user list");
  EXPECT_FALSE(Contains(users, "mallory")) << users;
  const std::string dbs = Run("database list");
  EXPECT_TRUE(Contains(dbs, "\ndb1 ")) << dbs;
  EXPECT_TRUE(Contains(dbs, "LOADED ")) << dbs;
  EXPECT_FALSE(Contains(dbs, "UNLOADED")) << dbs;
  EXPECT_FALSE(Contains(dbs, "db2")) << dbs;
}

TEST_F(AdminCliTest, DatabaseCommands) {
  Login();
  int code = 0;
  std::string out = Run("database create db1 --max-key-len 16 --exclude-commit-time", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out,
            "database 'db1' {maxKeyLen: 16, maxValueLen: 33554432, maxTxEntries: 1024, "
            "fileSize: 536870912, excludeCommitTime: true, autoload: true, "
            "writeTxHeaderVersion: 1, replica: false} successfully created\n");
  EXPECT_EQ(RunFailing("database create db1"), "immuadmin: database already exists\n");
  EXPECT_EQ(Run("database create db1 --if-not-exists"), "database 'db1' already exists\n");
  ExpectFailure("database create Bad-Name", "punctuation marks and symbols are not allowed");
  ExpectFailure("database create db9 --max-key-len 0", "max key length");

  out = Run("database list");
  EXPECT_TRUE(out.starts_with("DATABASE NAME       CREATED AT            CREATED BY  STATUS"))
      << out;
  EXPECT_TRUE(Contains(out, "\n*defaultdb ")) << out;
  EXPECT_TRUE(Contains(out, "\ndb1 ")) << out;
  EXPECT_FALSE(Contains(out, "db9")) << out;
  EXPECT_FALSE(Contains(out, "bad")) << out;

  EXPECT_EQ(Run("database use db1"), "now using database 'db1'\n");
  EXPECT_TRUE(Contains(Run("database list"), "\n*db1 "));

  // The key limit of the settings applies; excludeCommitTime gives ts 0.
  auto c = Connect();
  ASSERT_TRUE(c->UseDatabase("db1").ok());
  EXPECT_FALSE(c->Set(std::string(20, 'k'), "v").ok());
  auto h = c->Set("short", "v");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->ts, 0);

  EXPECT_EQ(Run("database unload db1"), "database 'db1' successfully unloaded\n");
  EXPECT_TRUE(Contains(Run("database list"), "UNLOADED"));
  EXPECT_EQ(RunFailing("database unload db1"), "immuadmin: already closed\n");
  EXPECT_FALSE(c->Set("short", "v2").ok());
  EXPECT_EQ(RunFailing("database use db1"), "immuadmin: already closed\n");

  EXPECT_EQ(Run("database update db1 --max-key-len 32"),
            "database 'db1' {maxKeyLen: 32, maxValueLen: 33554432, maxTxEntries: 1024, "
            "fileSize: 536870912, excludeCommitTime: true, autoload: true, "
            "writeTxHeaderVersion: 1, replica: false} successfully updated\n");
  ExpectFailure("database update db1 --file-size 8192",
                "file size of an existing database can not be changed");

  EXPECT_EQ(Run("database load db1"), "database 'db1' successfully loaded\n");
  EXPECT_EQ(RunFailing("database load db1"), "immuadmin: database already loaded\n");
  EXPECT_EQ(RunFailing("database load defaultdb"), "immuadmin: database is reserved\n");
  ExpectFailure("database load nosuchdb", "'nosuchdb' does not exist");

  // After the reload the new limit holds and the data is still there.
  ASSERT_TRUE(c->UseDatabase("db1").ok());
  EXPECT_TRUE(c->Set(std::string(20, 'k'), "v").ok());
  auto e = c->Get("short");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "v");

  // Deleting needs the confirmation flag and an unloaded database.
  ExpectFailure("database delete db1", "add --yes-i-know-what-i-am-doing");
  EXPECT_EQ(RunFailing("database delete db1 --yes-i-know-what-i-am-doing"),
            "immuadmin: cannot delete an open database\n");
  EXPECT_EQ(Run("database unload db1"), "database 'db1' successfully unloaded\n");
  EXPECT_EQ(Run("database delete db1 --yes-i-know-what-i-am-doing"),
            "database 'db1' successfully deleted\n");
  EXPECT_FALSE(Contains(Run("database list"), "db1"));
}

// The settings flags reach the server and read back from it: a replica that
// follows this server's defaultdb, the header version, the switches.
TEST_F(AdminCliTest, DatabaseSettingsFlags) {
  Login();
  int code = -1;
  const std::string port = std::to_string(server_->port());
  std::string out =
      Run("database create r1 --replication-is-replica --replication-primary-host 127.0.0.1 "
          "--replication-primary-port " +
              port +
              " --replication-primary-database defaultdb --replication-primary-username immudb "
              "--replication-primary-password immudb --write-tx-header-version 1",
          &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "writeTxHeaderVersion: 1, replica: true, primary: immudb@127.0.0.1:" +
                                port + "/defaultdb} successfully created"))
      << out;
  auto c = Connect();
  ASSERT_TRUE(c->UseDatabase("defaultdb").ok());
  for (int i = 0; i < 3; i++) {
    auto h = c->Set("k" + std::to_string(i), "v");
    ASSERT_TRUE(h.ok()) << h.status().ToString();
  }
  const client::State primary = *c->CurrentState();
  // r1 follows defaultdb (the primary password reached the server).
  auto r = Connect();
  ASSERT_TRUE(r->UseDatabase("r1").ok());
  client::State replica{};
  for (int i = 0; i < 100 && replica.tx_id < primary.tx_id; i++) {
    usleep(100 * 1000);
    replica = *r->CurrentState();
  }
  EXPECT_EQ(replica.tx_id, primary.tx_id);
  EXPECT_EQ(replica.tx_hash, primary.tx_hash);
  EXPECT_FALSE(r->Set("x", "y").ok());

  // Mistakes are refused and create nothing.
  ExpectFailure("database create db2 --write-tx-header-version 0",
                "only tx header version 1 is supported by this server");
  ExpectFailure("database create db3 --replication-primary-host 127.0.0.1",
                "a primary host is set only for a replica");
  out = Run("database create db4 --autoload=maybe", &code);
  EXPECT_NE(code, 0);
  out = Run("database create db5 --autoload false", &code);
  EXPECT_NE(code, 0);
  EXPECT_TRUE(Contains(out, "false")) << out;
  ExpectFailure("database update r1 --replication-is-replica=false",
                "a primary host is set only for a replica");

  // The old name --replication-enabled; switches alone and with =false.
  out =
      Run("database create r2 --replication-enabled --autoload=false --exclude-commit-time", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out,
                       "excludeCommitTime: true, autoload: false, writeTxHeaderVersion: 1, "
                       "replica: true}"))
      << out;
  out = Run(
      "database update r2 --replication-is-replica=false --autoload --exclude-commit-time=false",
      &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out,
                       "excludeCommitTime: false, autoload: true, writeTxHeaderVersion: 1, "
                       "replica: false}"))
      << out;

  // Read back from the server.
  std::map<std::string, schema::DatabaseNullableSettings> settings;
  auto dbs = client::ListDatabases(*c);
  ASSERT_TRUE(dbs.ok()) << dbs.status().ToString();
  for (const auto& d : *dbs) settings[d.name] = d.settings;
  EXPECT_EQ(settings.size(), 3u);  // defaultdb, r1, r2.
  const auto& rs = settings["r1"].replicationsettings();
  EXPECT_TRUE(rs.replica().value());
  EXPECT_EQ(rs.primaryhost().value(), "127.0.0.1");
  EXPECT_EQ(rs.primaryport().value(), static_cast<uint32_t>(server_->port()));
  EXPECT_EQ(rs.primarydatabase().value(), "defaultdb");
  EXPECT_EQ(rs.primaryusername().value(), "immudb");
  EXPECT_EQ(settings["r1"].writetxheaderversion().value(), 1u);
  EXPECT_FALSE(settings["r2"].replicationsettings().replica().value());
  EXPECT_TRUE(settings["r2"].autoload().value());
  EXPECT_FALSE(settings["r2"].excludecommittime().value());
  out = Run("database list");
  EXPECT_TRUE(Contains(out, "IS REPLICA")) << out;
  std::string r1_row;
  for (const auto& line : Lines(out)) {
    if (line.starts_with("r1 ")) r1_row = line;
  }
  EXPECT_TRUE(Contains(r1_row, " LOADED    true ")) << out;
}

TEST_F(AdminCliTest, DatabaseSettingsSurviveRestart) {
  Login();
  ASSERT_EQ(Run("database create db1 --max-key-len 16 --autoload=false").substr(0, 14),
            "database 'db1'");
  server_->Stop();
  StartServer();
  Login();
  const std::string out = Run("database list");
  EXPECT_TRUE(Contains(out, "UNLOADED")) << out;
  EXPECT_EQ(Run("database load db1"), "database 'db1' successfully loaded\n");
  auto c = Connect();
  ASSERT_TRUE(c->UseDatabase("db1").ok());
  EXPECT_FALSE(c->Set(std::string(20, 'k'), "v").ok());
}

TEST_F(AdminCliTest, DumpPrintsEveryEntry) {
  Login();
  EXPECT_EQ(Run("dump"), "database 'defaultdb' is empty\n");
  auto c = Connect();
  ASSERT_TRUE(c->Set("k1", "v1").ok());
  ASSERT_TRUE(c->Set("k2", std::string("a\x01z", 3)).ok());
  ASSERT_TRUE(c->SetReference("r1", "k1").ok());
  const std::string out = Run("dump --db defaultdb");
  EXPECT_TRUE(out.starts_with("database: defaultdb\ntx 1  ")) << out;
  EXPECT_TRUE(Contains(out, "  1 entry\n  set   k1 = v1\n")) << out;
  EXPECT_TRUE(Contains(out, "  set   k2 = a\\x01z\n")) << out;
  EXPECT_TRUE(Contains(out, "  ref   r1 -> k1\n")) << out;
  EXPECT_TRUE(Contains(out, "transactions: 3\nhash:         ")) << out;
}

TEST_F(AdminCliTest, DumpToFile) {
  Login();
  const std::string file = dir_ + "/dump.txt";
  int code = -1;
  EXPECT_EQ(Run("dump " + file, &code), "database 'defaultdb' is empty\n");
  EXPECT_FALSE(std::filesystem::exists(file));
  auto c = Connect();
  ASSERT_TRUE(c->Set("k1", "v1").ok());
  ASSERT_TRUE(c->Set("k2", "v2").ok());
  std::string out = Run("dump " + file, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "database 'defaultdb': 2 transactions dumped to " + file + "\n");
  EXPECT_EQ(ReadFile(file), Run("dump"));
  EXPECT_TRUE(Contains(ReadFile(file), "  set   k2 = v2\n"));
  EXPECT_EQ(Mode(file), 0600);
  // An existing file is not overwritten.
  WriteAll(file, "keep");
  ExpectFailure("dump " + file, "cannot create " + file + ": File exists");
  EXPECT_EQ(ReadFile(file), "keep");
}

// set auth|mtls: checked as immudb checks them; the server does not support
// them.
TEST_F(AdminCliTest, SetAuthAndMtlsFail) {
  int code = -1;
  EXPECT_EQ(Run("set auth none", &code), "immuadmin: please login first\n");
  EXPECT_EQ(code, 1);
  Login();
  for (const char* cmd : {"set auth password", "set auth none", "set mtls true"}) {
    const std::string out = Run(cmd, &code);
    EXPECT_EQ(code, 1) << cmd;
    EXPECT_EQ(out, "immuadmin: operation not supported\n") << cmd;
  }
  EXPECT_EQ(Run("set auth cryptosig", &code),
            "immuadmin: unsupported cryptosig auth mode, only none and password are currently "
            "supported\n");
  EXPECT_EQ(Run("set mtls maybe", &code),
            "immuadmin: unsupported value maybe, server MTLS can be set to true or false\n");
  EXPECT_EQ(Run("set color red", &code),
            "immuadmin: unsupported color config item, supported config items: auth or mtls\n");
  EXPECT_EQ(code, 1);
}

TEST_F(AdminCliTest, StatsText) {
  server_->Stop();
  const int metrics_port = FreePort();
  server_ = std::make_unique<ServerProcess>(
      dir_ + "/server", std::vector<std::string>{"--metrics-server=true", "--metrics-server-port",
                                                 std::to_string(metrics_port)});
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  auto c = Connect();
  ASSERT_TRUE(c->Set("k", "v").ok());
  const std::string port = " --metrics-port " + std::to_string(metrics_port);
  int code = 0;
  std::string out = Run("stats -t" + port, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("immudb metrics from 127.0.0.1:" + std::to_string(metrics_port)))
      << out;
  EXPECT_TRUE(Contains(out, "loaded databases:  1\n")) << out;
  EXPECT_TRUE(Contains(out, "\ndefaultdb ")) << out;
  out = Run("stats --raw" + port);
  EXPECT_TRUE(Contains(out, "immudb_last_committed_trx_id{db=\"defaultdb\"} 1")) << out;
  ExpectFailure("stats -t --metrics-port " + std::to_string(FreePort()),
                "cannot reach the metrics server");

  // The live view, bounded to two refreshes: each frame clears the screen;
  // the second one has rates (a number, not "-").
  out = Run("stats --dashboard --refresh-count 2 --interval 100ms" + port, &code);
  EXPECT_EQ(code, 0) << out;
  size_t frames = 0;
  for (size_t at = out.find("\x1b[H\x1b[2J"); at != std::string::npos;
       at = out.find("\x1b[H\x1b[2J", at + 1)) {
    frames++;
  }
  EXPECT_EQ(frames, 2u) << out;
  EXPECT_TRUE(Contains(out, "refresh #2 (every 100 ms")) << out;
  EXPECT_TRUE(Contains(out, "COMMITTED TX       TX/S")) << out;
  const std::string second = out.substr(out.rfind("refresh #2"));
  EXPECT_FALSE(Contains(second, "RPCs/s -")) << second;
  EXPECT_TRUE(Contains(second, "\ndefaultdb ")) << second;
  ExpectFailure("stats --dashboard --interval 5x" + port, "invalid --interval");
}

// database flush / compact write the selected database's index to files.
TEST_F(AdminCliTest, DatabaseFlushAndCompact) {
  auto c = Connect();
  for (int i = 0; i < 50; i++) ASSERT_TRUE(c->Set("k" + std::to_string(i), "v").ok());
  Login();
  const std::string index = dir_ + "/server/data/defaultdb/index";
  auto ssts = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(index)) {
      n += e.path().extension() == ".sst";
    }
    return n;
  };
  const int before = ssts();
  EXPECT_EQ(Run("database flush"), "database index successfully flushed\n");
  EXPECT_GT(ssts(), before);
  // The flags reach the server, which checks the percentage.
  int code = -1;
  EXPECT_EQ(RunFailing("database flush --cleanup-percentage 150"),
            "immuadmin: illegal arguments: invalid cleanupPercentage\n");
  ExpectFailure("database flush --cleanup-percentage -1 --synced", "invalid cleanupPercentage");
  EXPECT_EQ(Run("database flush --cleanup-percentage 10 --synced=false", &code),
            "database index successfully flushed\n");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Run("database compact"), "database index successfully compacted\n");
  EXPECT_GE(ssts(), 1);
  auto e = c->Get("k49");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "v");
}

// database truncate as immudb's immuadmin: the safety flag, the retention
// period (a Go duration), the server's answers; then a real truncation of a
// database whose txs were written three days ago.
TEST_F(AdminCliTest, DatabaseTruncate) {
  Login();
  ASSERT_EQ(Run("database create tr").substr(0, 13), "database 'tr'");
  int code = -1;
  EXPECT_EQ(RunFailing("database truncate tr --retention-period 24h"),
            "immuadmin: required flag(s) \"yes-i-know-what-i-am-doing\" not set\n");
  std::string out =
      Run("database truncate tr --retention-period 24h --yes-i-know-what-i-am-doing=false", &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, "database 'tr' was not truncated. Safety flag not set\n");
  out = Run("database truncate tr --retention-period 1h --yes-i-know-what-i-am-doing", &code);
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "truncating database 'tr' up to retention period '1h0m0s'...\n"))
      << out;
  EXPECT_TRUE(Contains(out, "invalid retention period for database 'tr'")) << out;
  ExpectFailure("database truncate tr --retention-period 2x --yes-i-know-what-i-am-doing",
                "invalid duration");
  const std::string store_dir = dir_ + "/server/data/tr";
  out = Run("database truncate tr --retention-period 24h --yes-i-know-what-i-am-doing", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out,
            "truncating database 'tr' up to retention period '24h0m0s'...\n"
            "immuadmin: retention period has not been reached\n");

  ASSERT_EQ(Run("database unload tr", &code), "database 'tr' successfully unloaded\n");
  {
    DatabaseOptions o;
    auto clock = std::make_shared<int64_t>(static_cast<int64_t>(std::time(nullptr)) - 3 * 86400);
    o.store.now_unix_seconds = [clock] { return ++*clock; };
    auto d = Database::Open(store_dir, o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    for (int i = 1; i <= 4; i++) {
      ASSERT_TRUE(
          (*d)->Set({KeyValue{"k" + std::to_string(i), std::string(20000, 'v'), {}}}, false).ok());
    }
    ASSERT_TRUE((*d)->Close().ok());
  }
  ASSERT_EQ(Run("database load tr", &code), "database 'tr' successfully loaded\n");
  out = Run("database truncate tr --retention-period 24h --yes-i-know-what-i-am-doing", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out,
            "truncating database 'tr' up to retention period '24h0m0s'...\n"
            "database 'tr' successfully truncated\n");
  EXPECT_TRUE(std::filesystem::exists(store_dir + "/TRUNCATED"));
  server_->Stop();
  FILE* p = popen((BinDir() + "/immuadmin verify " + store_dir + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  out.clear();
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << out;
  EXPECT_TRUE(Contains(out, "values of txs 1..3 were discarded by truncation")) << out;
}

// --retention-period and --truncation-frequency of database create/update
// reach the server as truncationSettings; bad values are refused (by the
// CLI for bad durations, by the server for immudb's limits) and change
// nothing; a server with a truncator running stops on SIGTERM at once.
TEST_F(AdminCliTest, DatabaseTruncationSettings) {
  Login();
  int code = -1;
  std::string out =
      Run("database create ret --retention-period 48h --truncation-frequency 1h30m", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out,
            "database 'ret' {maxKeyLen: 1024, maxValueLen: 33554432, maxTxEntries: 1024, "
            "fileSize: 536870912, excludeCommitTime: false, autoload: true, "
            "writeTxHeaderVersion: 1, replica: false, retentionPeriod: 48h0m0s, "
            "truncationFrequency: 1h30m0s} successfully created\n");
  auto truncation_of = [&](const std::string& name) {
    auto c = Connect();
    auto dbs = client::ListDatabases(*c);
    EXPECT_TRUE(dbs.ok());
    for (const auto& d : *dbs) {
      if (d.name == name) return d.settings.truncationsettings();
    }
    ADD_FAILURE() << name << " not listed";
    return schema::TruncationNullableSettings();
  };
  auto ts = truncation_of("ret");
  EXPECT_EQ(ts.retentionperiod().value(), 48 * 3600 * 1000);
  EXPECT_EQ(ts.truncationfrequency().value(), 90 * 60 * 1000);

  out = Run("database update ret --truncation-frequency 2h", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "retentionPeriod: 48h0m0s, truncationFrequency: 2h0m0s}")) << out;
  ts = truncation_of("ret");
  EXPECT_EQ(ts.retentionperiod().value(), 48 * 3600 * 1000);
  EXPECT_EQ(ts.truncationfrequency().value(), 2 * 3600 * 1000);

  out = Run("database update ret --retention-period 23h", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out,
            "immuadmin: illegal arguments: invalid retention period for database 'ret'. "
            "RetentionPeriod should at least '24' hours\n");
  out = Run("database update ret --truncation-frequency 10m", &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out,
            "immuadmin: illegal arguments: invalid truncation frequency for database 'ret'. "
            "TruncationFrequency should at least '1' hour\n");
  ExpectFailure("database update ret --retention-period 3x",
                "--retention-period: invalid duration");
  ExpectFailure("database create ret2 --retention-period 1h",
                "invalid retention period for database 'ret2'");
  ts = truncation_of("ret");
  EXPECT_EQ(ts.retentionperiod().value(), 48 * 3600 * 1000);
  EXPECT_EQ(ts.truncationfrequency().value(), 2 * 3600 * 1000);
  EXPECT_FALSE(Contains(Run("database list"), "ret2"));

  // Without a retention period nothing about truncation is printed.
  out = Run("database create plain --truncation-frequency 3h", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "replica: false} successfully created")) << out;
  EXPECT_EQ(truncation_of("plain").truncationfrequency().value(), 3 * 3600 * 1000);

  // The truncator of `ret` waits two hours between passes; SIGTERM does not.
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  StartServer();
  ts = truncation_of("ret");
  EXPECT_EQ(ts.retentionperiod().value(), 48 * 3600 * 1000);
  EXPECT_EQ(ts.truncationfrequency().value(), 2 * 3600 * 1000);
}

TEST_F(AdminCliTest, VerifyStoreDirectory) {
  auto c = Connect();
  ASSERT_TRUE(c->Set("k1", "v1").ok());
  ASSERT_TRUE(c->Set("k2", "v2").ok());
  server_->Stop();
  const std::string db = dir_ + "/server/data/defaultdb";
  int code = -1;
  std::string out = RunShell(BinDir() + "/immuadmin verify " + db + " 2>&1", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(out.starts_with("verified 2 transactions, ")) << out;
  EXPECT_TRUE(Contains(out, "\nlast tx 2, alh ")) << out;

  out = RunShell(BinDir() + "/immuadmin verify " + dir_ + "/nothing-here 2>&1", &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(out.starts_with("immuadmin: " + dir_ + "/nothing-here: ")) << out;
}

TEST_F(AdminCliTest, ServiceInstallWritesFilesUnderRoot) {
  const std::string root = dir_ + "/root";
  const std::string bin = BinDir() + "/immudb";
  int code = 0;
  std::string out = Run("service install --root " + root + " --immudb-bin " + bin, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(Contains(out, "immudb service installed\n")) << out;

  const std::string unit = ReadFile(root + "/etc/systemd/system/immudb.service");
  EXPECT_TRUE(Contains(unit, "[Unit]\n")) << unit;
  EXPECT_TRUE(
      Contains(unit, "\nExecStart=" + bin + " --config " + root + "/etc/immudb/immudb.toml\n"))
      << unit;
  EXPECT_TRUE(Contains(unit, "\nWantedBy=multi-user.target\n")) << unit;
  EXPECT_EQ(Mode(root + "/etc/systemd/system/immudb.service"), 0644);
  const std::string config = ReadFile(root + "/etc/immudb/immudb.toml");
  EXPECT_TRUE(Contains(config, "\ndir = \"" + root + "/var/lib/immudb\"\n")) << config;
  EXPECT_TRUE(Contains(config, "\nlogfile = \"" + root + "/var/log/immudb/immudb.log\"\n"))
      << config;
  EXPECT_TRUE(Contains(config, "\nport = 3322\n")) << config;
  EXPECT_EQ(Mode(root + "/var/lib/immudb"), 0700);
  EXPECT_EQ(Mode(root + "/var/log/immudb"), 0755);

  ExpectFailure("service install --root " + root + " --immudb-bin " + bin, "already installed");
  ExpectFailure("service install --root " + dir_ + "/root2 --immudb-bin " + dir_ + "/no-such",
                "is not an executable file");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/root2"));

  // A config that is already there is kept.
  out = Run("service uninstall --root " + root, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_FALSE(std::filesystem::exists(root + "/etc/systemd/system/immudb.service"));
  EXPECT_TRUE(std::filesystem::exists(root + "/etc/immudb/immudb.toml"));
  ExpectFailure("service uninstall --root " + root, "not installed");

  out = Run("service status", &code, "", "PATH=" + dir_ + "/empty-path");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(Contains(out, "systemctl not found")) << out;
}

// start/stop/status run `systemctl <action> immudb` from the PATH and exit
// with its code (here a stub that records its arguments).
TEST_F(AdminCliTest, ServiceStartStopStatusRunSystemctl) {
  const std::string bin = dir_ + "/stub-bin", log = dir_ + "/systemctl.log";
  std::filesystem::create_directories(bin);
  WriteAll(bin + "/systemctl",
           "#!/bin/sh\necho \"$*\" >> " + log + "\n[ \"$1\" = status ] && exit 3\nexit 0\n");
  std::filesystem::permissions(bin + "/systemctl", std::filesystem::perms::owner_all);
  const std::string env = "PATH=" + bin + ":/usr/bin:/bin";
  int code = -1;
  EXPECT_EQ(Run("service start", &code, "", env), "");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Run("service stop", &code, "", env), "");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Run("service status", &code, "", env), "");
  EXPECT_EQ(code, 3);
  EXPECT_EQ(ReadFile(log), "start immudb\nstop immudb\nstatus immudb\n");
  // --root is for install/uninstall; systemctl is not run.
  const std::string out = Run("service start --root " + dir_ + "/root", &code, "", env);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "immuadmin: --root applies to service install and uninstall only\n");
  EXPECT_EQ(ReadFile(log), "start immudb\nstop immudb\nstatus immudb\n");
}

}  // namespace
}  // namespace immudb::admin::testing
