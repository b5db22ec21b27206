#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
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

}  // namespace
}  // namespace immudb::server
