#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace immudb::server {
namespace {

Result<ParsedCommand> Parse(std::vector<const char*> args, std::vector<const char*> env = {}) {
  args.insert(args.begin(), "immudb");
  env.push_back(nullptr);
  return ParseConfig(static_cast<int>(args.size()), args.data(), env.data());
}

TEST(ConfigTest, DefaultsWithoutFlags) {
  auto p = Parse({});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->config.dir, "./data");
  EXPECT_EQ(p->config.port, 3322);
  EXPECT_TRUE(p->config.auth);
  EXPECT_EQ(p->config.token_expiry_minutes, 1440);
  EXPECT_TRUE(p->config.non_defaults.empty());
}

TEST(ConfigTest, FlagBeatsEnvBeatsFile) {
  const std::string path = testing::TempDir() + "/immudb_cfg_" + std::to_string(getpid()) + ".toml";
  {
    std::ofstream f(path);
    f << "port = 1111\ndir = \"/from/file\"\naddress = \"127.0.0.2\"\ndevmode = true\n"
         "dbname = \"ignored\"\n";
  }
  auto p = Parse({"--config", path.c_str(), "--port=3333"},
                 {"IMMUDB_PORT=2222", "IMMUDB_DIR=/from/env"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->config.port, 3333);
  EXPECT_EQ(p->config.dir, "/from/env");
  EXPECT_EQ(p->config.address, "127.0.0.2");
  EXPECT_TRUE(p->config.devmode);
  EXPECT_EQ(p->config.non_defaults.size(), 4u);
  std::filesystem::remove(path);
}

TEST(ConfigTest, BoolFlagForms) {
  auto p = Parse({"--auth=false", "--devmode"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->config.auth);
  EXPECT_TRUE(p->config.devmode);
  auto e = Parse({}, {"IMMUDB_AUTH=false", "IMMUDB_MAINTENANCE=true"});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->config.maintenance);
}

TEST(ConfigTest, InvalidValuesAreStartupErrors) {
  EXPECT_FALSE(Parse({"--port=abc"}).ok());
  EXPECT_FALSE(Parse({"--port=70000"}).ok());
  EXPECT_FALSE(Parse({}, {"IMMUDB_AUTH=maybe"}).ok());
  EXPECT_FALSE(Parse({"--token-expiry-time=0"}).ok());
  EXPECT_FALSE(Parse({"--no-such-flag"}).ok());
  EXPECT_FALSE(Parse({"--config", "/nonexistent/immudb.toml"}).ok());
  EXPECT_FALSE(Parse({"--maintenance"}).ok());         // Requires auth off.
  EXPECT_FALSE(Parse({"--certificate=/x.pem"}).ok());  // pkey missing.
  // Replication: a replica needs its primary; a primary host needs a replica.
  EXPECT_FALSE(Parse({"--replication-is-replica"}).ok());
  EXPECT_FALSE(Parse({"--replication-primary-host=h"}).ok());
  EXPECT_FALSE(Parse({"--replication-is-replica", "--replication-primary-host=h",
                      "--replication-primary-username=u", "--replication-primary-port=0"})
                   .ok());
  auto r = Parse({"--replication-is-replica", "--replication-primary-host=h",
                  "--replication-primary-username=u", "--replication-primary-password=p"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.replication_primary_port, 3322);
  EXPECT_EQ(r->config.replication_primary_password, "p");
  auto p = Parse({"--port=abc"});
  EXPECT_NE(p.status().message().find("port"), std::string::npos);
}

TEST(ConfigTest, SessionAndMetricsSettings) {
  auto d = Parse({});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->config.metrics_server);
  EXPECT_EQ(d->config.metrics_server_port, 9497);
  EXPECT_EQ(d->config.max_sessions, 100);
  EXPECT_EQ(d->config.session_timeout_ms, 120000);
  EXPECT_EQ(d->config.max_session_age_ms, 0);

  auto p = Parse({"--metrics-server-port=9000", "--max-sessions=5", "--session-timeout=90s",
                  "--max-session-age-time=1h30m", "--sessions-guard-check-interval=500ms"},
                 {"IMMUDB_METRICS_SERVER=false", "IMMUDB_MAX_SESSION_INACTIVITY_TIME=4m"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->config.metrics_server);
  EXPECT_EQ(p->config.metrics_server_port, 9000);
  EXPECT_EQ(p->config.max_sessions, 5);
  EXPECT_EQ(p->config.session_timeout_ms, 90000);
  EXPECT_EQ(p->config.max_session_age_ms, 90 * 60 * 1000);
  EXPECT_EQ(p->config.sessions_guard_check_interval_ms, 500);
  EXPECT_EQ(p->config.max_session_inactivity_ms, 4 * 60 * 1000);

  EXPECT_FALSE(Parse({"--session-timeout=2"}).ok());
  EXPECT_FALSE(Parse({"--session-timeout=2d"}).ok());
  EXPECT_FALSE(Parse({"--session-timeout=m"}).ok());
  EXPECT_FALSE(Parse({"--session-timeout=0"}).ok());
  EXPECT_FALSE(Parse({"--sessions-guard-check-interval=0s"}).ok());
  EXPECT_FALSE(Parse({"--max-session-age-time=999999999999h999999999999h"}).ok());
  EXPECT_FALSE(Parse({"--max-sessions=0"}).ok());
  EXPECT_FALSE(Parse({"--metrics-server-port=70000"}).ok());
}

// The names of the settings logged as differing from their defaults.
std::set<std::string> NonDefaultNames(const ParsedCommand& p) {
  std::set<std::string> out;
  for (const std::string& line : p.config.non_defaults) out.insert(line.substr(0, line.find('=')));
  return out;
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
  return path;
}

std::string ScratchDir(const std::string& name) {
  const std::string d = testing::TempDir() + "/immudb_cfg_" + name + "_" + std::to_string(getpid());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(ConfigTest, EverySection10SettingIsAccepted) {
  auto p = Parse({"--logdir=logs",
                  "--log-rotation-size=1048576",
                  "--log-rotation-age=1h",
                  "--log-access",
                  "--no-histograms",
                  "-d",
                  "--auto-cert=false",
                  "--pgsql-server=false",
                  "--pgsql-server-port=5433",
                  "--pprof=false",
                  "--grpc-reflection=false",
                  "--log-request-metadata=false",
                  "--max-active-databases=50",
                  "--max-key-length=512",
                  "--audit-log=false",
                  "--audit-log-events=write",
                  "--s3-storage=false",
                  "--s3-endpoint=http://127.0.0.1:9000",
                  "--s3-access-key-id=k",
                  "--s3-secret-key=s",
                  "--s3-bucket-name=b",
                  "--s3-location=eu",
                  "--s3-path-prefix=p",
                  "--s3-role-enabled=false",
                  "--s3-role=r",
                  "--s3-external-identifier=false",
                  "--s3-instance-metadata-url=http://127.0.0.1",
                  "--s3-use-fargate-credentials=false",
                  "--s3-server-side-encryption=aws:kms",
                  "--s3-sse-kms-key-id=id",
                  "--replication-sync-enabled=false",
                  "--replication-sync-acks=1",
                  "--replication-prefetch-tx-buffer-size=10",
                  "--replication-commit-concurrency=2",
                  "--replication-allow-tx-discarding=false",
                  "--replication-skip-integrity-check=false",
                  "--replication-wait-for-indexing=false"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->config.logdir, "logs");
  EXPECT_EQ(p->config.log_rotation_size, 1048576);
  EXPECT_EQ(p->config.log_rotation_age_ms, 3600 * 1000);
  EXPECT_TRUE(p->config.no_histograms);
  EXPECT_TRUE(p->config.detached);
  EXPECT_FALSE(p->config.grpc_reflection);
  EXPECT_EQ(NonDefaultNames(*p),
            (std::set<std::string>{"logdir", "log-rotation-size", "log-rotation-age",
                                   "no-histograms", "detached", "grpc-reflection"}));
  // Values with no effect here are warnings, never settings; the secret key
  // is masked.
  std::string all;
  for (const std::string& w : p->config.warnings) all += w + "\n";
  for (const char* name :
       {"log-access=", "pgsql-server-port=", "max-active-databases=", "max-key-length=",
        "audit-log-events=", "s3-endpoint=", "s3-secret-key=****", "replication-sync-acks=",
        "replication-prefetch-tx-buffer-size=", "replication-commit-concurrency="}) {
    EXPECT_NE(all.find(name), std::string::npos) << name << " in\n" << all;
  }
  EXPECT_EQ(all.find("=s "), std::string::npos) << all;
  // pgsql-server=false describes this server.
  EXPECT_EQ(all.find("pgsql-server="), std::string::npos) << all;
  EXPECT_EQ(p->config.warnings.size(), 19u) << all;  // 18 inert + rotation without logfile.
  for (const std::string& w : p->config.warnings) {
    EXPECT_NE(w.find("no effect"), std::string::npos) << w;
  }
}

TEST(ConfigTest, NewSettingsFromEnvironmentAndFile) {
  const std::string dir = ScratchDir("newsettings");
  const std::string path = WriteFile(dir + "/immudb.toml",
                                     "log-rotation-size = 4096\n"
                                     "no-histograms = true\n"
                                     "max-key-length = 128\n"
                                     "audit-log-events = \"admin\"\n");
  auto p = Parse({"--config", path.c_str()},
                 {"IMMUDB_LOG_ROTATION_AGE=2m", "IMMUDB_MAX_ACTIVE_DATABASES=7"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->config.log_rotation_size, 4096);
  EXPECT_EQ(p->config.log_rotation_age_ms, 120000);
  EXPECT_TRUE(p->config.no_histograms);
  EXPECT_EQ(p->config.warnings.size(), 4u);  // 3 inert settings + rotation without logfile.
  EXPECT_FALSE(Parse({}, {"IMMUDB_MAX_KEY_LENGTH=abc"}).ok());
  WriteFile(path, "audit-log-events = \"reads\"\n");
  auto bad = Parse({"--config", path.c_str()});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("audit-log-events"), std::string::npos);
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ConfigTest, InvalidNewValuesAreStartupErrors) {
  for (std::vector<const char*> args :
       std::vector<std::vector<const char*>>{{"--log-rotation-size=-1"},
                                             {"--log-rotation-size=big"},
                                             {"--log-rotation-age=30s"},  // Under a minute.
                                             {"--log-rotation-age=5"},
                                             {"--no-histograms=maybe"},
                                             {"--detached=2"},
                                             {"--max-key-length=10"},
                                             {"--max-key-length=70000"},
                                             {"--max-active-databases=0"},
                                             {"--audit-log-events=everything"},
                                             {"--audit-log=yes"},
                                             {"--replication-sync-acks=-1"},
                                             {"--replication-prefetch-tx-buffer-size=0"},
                                             {"--replication-commit-concurrency=x"},
                                             {"--replication-wait-for-indexing=2"},
                                             {"--s3-server-side-encryption=rot13"},
                                             {"--pgsql-server-port=99999"},
                                             {"--logformat=xml"},
                                             {"--grpc-poll-strategy=select"},
                                             {"--replication-master-port=0"}}) {
    auto p = Parse(args);
    EXPECT_FALSE(p.ok()) << args[0];
    if (!p.ok()) {
      EXPECT_NE(p.status().message().find("invalid value"), std::string::npos)
          << p.status().message();
    }
  }
}

TEST(ConfigTest, GrpcPollStrategy) {
  auto d = Parse({});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->config.grpc_poll_strategy, "poll");
  auto p = Parse({"--grpc-poll-strategy=epoll1"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->config.grpc_poll_strategy, "epoll1");
  auto e = Parse({}, {"IMMUDB_GRPC_POLL_STRATEGY="});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->config.grpc_poll_strategy, "");
}

TEST(ConfigTest, S3StorageIsRefused) {
  for (auto p : {Parse({"--s3-storage"}), Parse({}, {"IMMUDB_S3_STORAGE=true"})}) {
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find("s3-storage"), std::string::npos);
    EXPECT_NE(p.status().message().find("not supported"), std::string::npos);
  }
  EXPECT_TRUE(Parse({"--s3-storage=false"}).ok());
}

TEST(ConfigTest, ReplicationAliasesOfImmudb11) {
  auto f = Parse({"--replication-enabled", "--replication-master-address=primary.local",
                  "--replication-master-port=4000", "--replication-follower-username=rep",
                  "--replication-follower-password=secret"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->config.replication_is_replica);
  EXPECT_EQ(f->config.replication_primary_host, "primary.local");
  EXPECT_EQ(f->config.replication_primary_port, 4000);
  EXPECT_EQ(f->config.replication_primary_username, "rep");
  EXPECT_EQ(f->config.replication_primary_password, "secret");
  std::string logged;
  for (const std::string& line : f->config.non_defaults) logged += line + "\n";
  EXPECT_NE(logged.find("replication-is-replica=true (flag --replication-enabled)"),
            std::string::npos)
      << logged;
  EXPECT_EQ(logged.find("secret"), std::string::npos) << logged;

  auto e = Parse({}, {"IMMUDB_REPLICATION_ENABLED=true", "IMMUDB_REPLICATION_MASTER_ADDRESS=h",
                      "IMMUDB_REPLICATION_FOLLOWER_USERNAME=u"});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->config.replication_is_replica);
  EXPECT_EQ(e->config.replication_primary_host, "h");

  const std::string dir = ScratchDir("alias");
  const std::string path =
      WriteFile(dir + "/immudb.toml",
                "replication-enabled = true\nreplication-master-address = \"f\"\n"
                "replication-master-port = 5000\nreplication-follower-username = \"fu\"\n");
  // The canonical flag beats the alias in the file.
  auto t = Parse({"--config", path.c_str(), "--replication-primary-port=6000"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->config.replication_primary_host, "f");
  EXPECT_EQ(t->config.replication_primary_port, 6000);
  EXPECT_EQ(t->config.replication_primary_username, "fu");

  // Both names at one level: refused.
  auto both = Parse({"--replication-primary-port=1", "--replication-master-port=2"});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("same setting"), std::string::npos);
  EXPECT_FALSE(
      Parse({}, {"IMMUDB_REPLICATION_IS_REPLICA=true", "IMMUDB_REPLICATION_ENABLED=true",
                 "IMMUDB_REPLICATION_PRIMARY_HOST=h", "IMMUDB_REPLICATION_PRIMARY_USERNAME=u"})
          .ok());
  std::filesystem::remove_all(dir);
}

TEST(ConfigTest, NonDefaultsCompareParsedValues) {
  // Values equal to the defaults, written differently: nothing to log.
  auto same = Parse({"--session-timeout=2m", "--max-session-inactivity-time=180s",
                     "--sessions-guard-check-interval=60000ms", "--port=03322", "--auth=1",
                     "--synced=T", "--max-recv-msg-size=33554432", "--logformat=text",
                     "--max-session-age-time=0s", "--log-rotation-age=0"},
                    {"IMMUDB_DEVMODE=False", "IMMUDB_TOKEN_EXPIRY_TIME=1440"});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_TRUE(same->config.non_defaults.empty()) << same->config.non_defaults[0];
  EXPECT_TRUE(same->config.warnings.empty());
  // Inert settings at their defaults are no warnings either.
  auto inert = Parse({"--pgsql-server-port=5432", "--max-active-databases=100",
                      "--replication-commit-concurrency=10", "--audit-log-events=all",
                      "--grpc-reflection=true", "--max-key-length=0"});
  ASSERT_TRUE(inert.ok()) << inert.status().ToString();
  EXPECT_TRUE(inert->config.non_defaults.empty());
  EXPECT_TRUE(inert->config.warnings.empty()) << inert->config.warnings[0];

  auto some = Parse({"--session-timeout=3m", "--port=3323", "--pprof", "--devmode=false"},
                    {"IMMUDB_ADMIN_PASSWORD=other", "IMMUDB_MAX_SESSIONS=100"});
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  EXPECT_EQ(NonDefaultNames(*some),
            (std::set<std::string>{"session-timeout", "port", "admin-password"}));
  ASSERT_EQ(some->config.warnings.size(), 1u);
  EXPECT_EQ(some->config.warnings[0].rfind("pprof=true (flag --pprof) has no effect", 0), 0u)
      << some->config.warnings[0];
  EXPECT_NE(std::find(some->config.non_defaults.begin(), some->config.non_defaults.end(),
                      "session-timeout=3m (flag --session-timeout)"),
            some->config.non_defaults.end());
  EXPECT_NE(std::find(some->config.non_defaults.begin(), some->config.non_defaults.end(),
                      "admin-password=**** (environment IMMUDB_ADMIN_PASSWORD)"),
            some->config.non_defaults.end());
}

TEST(ConfigTest, LogLevelFromEnvironment) {
  EXPECT_EQ(Parse({})->config.log_level, "info");
  auto d = Parse({}, {"LOG_LEVEL=debug"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.log_level, "debug");
  EXPECT_EQ(NonDefaultNames(*d), (std::set<std::string>{"LOG_LEVEL"}));
  EXPECT_EQ(Parse({}, {"LOG_LEVEL=WARNING"})->config.log_level, "warn");
  EXPECT_EQ(Parse({}, {"LOG_LEVEL=warn"})->config.log_level, "warn");
  EXPECT_EQ(Parse({}, {"LOG_LEVEL=Error"})->config.log_level, "error");
  EXPECT_TRUE(Parse({}, {"LOG_LEVEL=info"})->config.non_defaults.empty());
  auto bad = Parse({}, {"LOG_LEVEL=loud"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->config.log_level, "info");
  ASSERT_EQ(bad->config.warnings.size(), 1u);
  EXPECT_NE(bad->config.warnings[0].find("LOG_LEVEL=loud"), std::string::npos);
}

TEST(ConfigTest, LogFileGoesUnderLogdir) {
  ServerConfig c;
  EXPECT_EQ(c.LogFilePath(), "");
  c.logfile = "immudb.log";
  EXPECT_EQ(c.LogFilePath(), "./data/immulog/immudb.log");
  c.dir = "/var/lib/immudb";
  c.logdir = "logs";
  EXPECT_EQ(c.LogFilePath(), "/var/lib/immudb/logs/immudb.log");
  c.logdir = "/var/log/immudb";
  EXPECT_EQ(c.LogFilePath(), "/var/log/immudb/immudb.log");
  c.logfile = "/tmp/x/immudb.log";
  EXPECT_EQ(c.LogFilePath(), "/tmp/x/immudb.log");
  auto p = Parse({"--dir=/d", "--logfile=sub/a.log"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->config.LogFilePath(), "/d/immulog/sub/a.log");
}

TEST(ConfigTest, ConfigSearchOrder) {
  std::vector<const char*> env = {"HOME=/h", "GOPATH=/go", nullptr};
  EXPECT_EQ(ConfigSearchDirs(env.data(), "/usr/local/bin/immudb"),
            (std::vector<std::string>{"/h", "../src/configs", "/go/src/configs"}));
  EXPECT_EQ(ConfigSearchDirs(env.data(), "/usr/sbin/immudb"),
            (std::vector<std::string>{"/h", "../src/configs", "/go/src/configs", "/etc/immudb"}));
  std::vector<const char*> none = {nullptr};
  EXPECT_EQ(ConfigSearchDirs(none.data(), ""), (std::vector<std::string>{"../src/configs"}));
}

TEST(ConfigTest, ConfigFileFoundInSearchDirs) {
  const std::string root = ScratchDir("search");
  const std::string home = root + "/home";
  const std::string gopath = root + "/go";
  const std::string cwd = root + "/work/bin";  // ../src/configs = root/work/src/configs.
  std::filesystem::create_directories(home);
  std::filesystem::create_directories(cwd);
  WriteFile(gopath + "/src/configs/immudb.toml", "port = 3003\n");
  const std::string home_env = "HOME=" + home;
  const std::string gopath_env = "GOPATH=" + gopath;
  const auto old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(cwd);

  auto g = Parse({}, {home_env.c_str(), gopath_env.c_str()});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->config.port, 3003);
  EXPECT_EQ(g->config.config, gopath + "/src/configs/immudb.toml");

  WriteFile(root + "/work/src/configs/immudb.toml", "port = 3002\n");
  auto s = Parse({}, {home_env.c_str(), gopath_env.c_str()});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->config.port, 3002);
  EXPECT_EQ(s->config.config, "../src/configs/immudb.toml");

  WriteFile(home + "/immudb.toml", "port = 3001\n");
  auto h = Parse({}, {home_env.c_str(), gopath_env.c_str()});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->config.port, 3001);
  EXPECT_EQ(h->config.config, home + "/immudb.toml");
  EXPECT_EQ(NonDefaultNames(*h), (std::set<std::string>{"port"}));

  // An explicit file wins over the search; IMMUDB_CONFIG too.
  const std::string explicit_path = WriteFile(root + "/other.toml", "port = 3004\n");
  EXPECT_EQ(Parse({"--config", explicit_path.c_str()}, {home_env.c_str()})->config.port, 3004);
  const std::string config_env = "IMMUDB_CONFIG=" + explicit_path;
  EXPECT_EQ(Parse({}, {home_env.c_str(), config_env.c_str()})->config.port, 3004);
  std::filesystem::current_path(old_cwd);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace immudb::server
