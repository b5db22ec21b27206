// immugw in front of two real build/bin/immudb children: each server's routes
// under /servers/<name> reach that server and verify against its own trusted
// state, the unprefixed routes reach the default server, an unknown name is a
// 404, one server cannot pass for the other, and the auditor audits both.
// Also the parsing of the server list from flags, environment and toml.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "client/auditor.h"
#include "cmd/immugw/config.h"
#include "cmd/immugw/gateway.h"
#include "gateway_harness.h"
#include "lying_proxy.h"
#include "server_process.h"
#include "testutil/test_util.h"

namespace immudb::gateway {
namespace {

using client::Base64Encode;
using client::testing::LyingProxy;
using client::testing::ServerProcess;

constexpr char kUuidA[] = "gwmultiA000000000000";
constexpr char kUuidB[] = "gwmultiB000000000000";
constexpr char kLogin[] = R"({"user":"aW1tdWRi","password":"aW1tdWRi"})";

std::string B64(const std::string& s) { return Base64Encode(s); }

std::string SetBody(const std::string& key, const std::string& value) {
  return R"({"setRequest":{"KVs":[{"key":")" + B64(key) + R"(","value":")" + B64(value) +
         R"("}]}})";
}

std::string GetBody(const std::string& key) {
  return R"({"keyRequest":{"key":")" + B64(key) + "\"}}";
}

std::string TokenOf(const httplib::Result& res) {
  const std::string marker = "\"token\":\"";
  if (!res) return "";
  const size_t at = res->body.find(marker);
  if (at == std::string::npos) return "";
  const size_t from = at + marker.size();
  return res->body.substr(from, res->body.find('"', from) - from);
}

bool Has(const httplib::Result& res, const std::string& text) {
  return res && res->body.find(text) != std::string::npos;
}

// Servers A and B, each behind an honest LyingProxy with its own uuid (so a
// test can make B's address answer as A).
class MultiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("immugw_multi");
    a_ = std::make_unique<ServerProcess>(dir_ + "/a");
    b_ = std::make_unique<ServerProcess>(dir_ + "/b");
    std::string error;
    ASSERT_TRUE(a_->Start(&error)) << error;
    ASSERT_TRUE(b_->Start(&error)) << error;
    proxy_a_ = std::make_unique<LyingProxy>(a_->target(), kUuidA);
    proxy_b_ = std::make_unique<LyingProxy>(b_->target(), kUuidB);
  }
  void TearDown() override {
    http_.reset();
    gw_.reset();
    proxy_a_.reset();
    proxy_b_.reset();
    a_.reset();
    b_.reset();
    std::filesystem::remove_all(dir_);
  }

  GatewayOptions Options() const {
    GatewayOptions o;
    o.immudb_port = proxy_a_->port();
    ServerOptions b;
    b.name = "b";
    b.port = proxy_b_->port();
    o.servers.push_back(b);
    o.dir = dir_ + "/gw";
    o.timeout = std::chrono::milliseconds(10000);
    return o;
  }

  // Starts the gateway, logs in to A (unprefixed) and to B (/servers/b).
  void Start(GatewayOptions o) {
    auto login = testing::StartGatewayAndLogin(std::move(o), &gw_, &http_, &token_a_);
    ASSERT_TRUE(login.ok()) << login.status().ToString();
    ASSERT_EQ(*login, 200);
    token_b_ = TokenOf(http_->Post("/servers/b/api/login", kLogin, "application/json"));
    ASSERT_FALSE(token_b_.empty());
  }

  httplib::Result Post(const std::string& token, const std::string& path, const std::string& body) {
    return http_->Post(path.c_str(), {{"Authorization", "Bearer " + token}}, body,
                       "application/json");
  }
  httplib::Result Get(const std::string& token, const std::string& path) {
    return http_->Get(path.c_str(), {{"Authorization", "Bearer " + token}});
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> a_, b_;
  std::unique_ptr<LyingProxy> proxy_a_, proxy_b_;
  std::unique_ptr<Gateway> gw_;
  std::unique_ptr<httplib::Client> http_;
  std::string token_a_, token_b_;
};

TEST_F(MultiServerTest, EachPrefixReachesItsServerAndVerifies) {
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  // The same key, another value on each server (B gets two writes).
  auto set_a = Post(token_a_, "/db/defaultdb/verified/set", SetBody("k", "value-a"));
  ASSERT_TRUE(set_a);
  EXPECT_EQ(set_a->status, 200) << set_a->body;
  ASSERT_EQ(Post(token_b_, "/servers/b/db/defaultdb/verified/set", SetBody("x", "1"))->status, 200);
  auto set_b = Post(token_b_, "/servers/b/api/db/defaultdb/verified/set", SetBody("k", "value-b"));
  ASSERT_TRUE(set_b);
  EXPECT_EQ(set_b->status, 200) << set_b->body;
  EXPECT_TRUE(Has(set_b, "\"id\":\"2\"") && Has(set_b, "\"verified\":true")) << set_b->body;

  // Safe reads through each prefix: that server's value, verified.
  auto get_a = Post(token_a_, "/db/defaultdb/verified/get", GetBody("k"));
  EXPECT_TRUE(Has(get_a, "\"value\":\"" + B64("value-a") + "\"") && Has(get_a, "\"verified\":true"))
      << (get_a ? get_a->body : "");
  auto get_default = Post(token_a_, "/servers/default/db/defaultdb/verified/get", GetBody("k"));
  EXPECT_TRUE(Has(get_default, "\"value\":\"" + B64("value-a") + "\"") &&
              Has(get_default, "\"verified\":true"))
      << (get_default ? get_default->body : "");
  auto get_b = Post(token_b_, "/servers/b/db/defaultdb/verified/get", GetBody("k"));
  EXPECT_TRUE(Has(get_b, "\"value\":\"" + B64("value-b") + "\"") && Has(get_b, "\"verified\":true"))
      << (get_b ? get_b->body : "");
  auto tx_b = Get(token_b_, "/servers/b/db/defaultdb/verified/tx/2");
  EXPECT_TRUE(Has(tx_b, "\"verified\":true")) << (tx_b ? tx_b->body : "");

  // Plain routes too.
  auto plain_b = Get(token_b_, "/servers/b/api/db/get/" + B64("k"));
  EXPECT_TRUE(Has(plain_b, "\"value\":\"" + B64("value-b") + "\""))
      << (plain_b ? plain_b->body : "");
  EXPECT_TRUE(Has(Get(token_a_, "/db/state"), "\"txId\":\"1\""));
  EXPECT_TRUE(Has(Get(token_b_, "/servers/b/db/state"), "\"txId\":\"2\""));

  // One trusted-state file per server, each pinning its server.
  ASSERT_NE(gw_->state_path("default"), gw_->state_path("b"));
  EXPECT_EQ(gw_->state_path(), gw_->state_path("default"));
  for (const auto& [name, uuid] : {std::pair{"default", kUuidA}, std::pair{"b", kUuidB}}) {
    std::ifstream in(gw_->state_path(name));
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find(std::string("server ") + uuid), std::string::npos) << name;
  }
  EXPECT_EQ(gw_->state_path("nope"), "");
  EXPECT_EQ(gw_->auditor("b"), nullptr);  // No --audit.

  // Unknown server names: 404 with a clear error; nothing is sent anywhere.
  auto unknown = Post(token_a_, "/servers/nope/db/defaultdb/verified/get", GetBody("k"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_TRUE(Has(unknown, "unknown server 'nope' (configured: default, b)")) << unknown->body;
  EXPECT_TRUE(Has(unknown, "\"code\":5")) << unknown->body;
  auto unknown_get = Get(token_a_, "/servers/nope/api/health");
  ASSERT_TRUE(unknown_get);
  EXPECT_EQ(unknown_get->status, 404);
  auto bare = Get(token_a_, "/servers/nope");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 404);
  auto no_route = Get(token_b_, "/servers/b/db/nosuchroute");
  ASSERT_TRUE(no_route);
  EXPECT_EQ(no_route->status, 404);
  EXPECT_FALSE(Has(no_route, "unknown server")) << no_route->body;
  auto metrics = Get(token_b_, "/servers/b/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 404);
  EXPECT_TRUE(Has(metrics, "audit is not enabled"));
  EXPECT_TRUE(Has(Get(token_b_, "/servers/b/db/state"), "\"txId\":\"2\""));
}

TEST_F(MultiServerTest, OneServerCannotPassForTheOther) {
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  ASSERT_EQ(Post(token_a_, "/db/defaultdb/verified/set", SetBody("k", "value-a"))->status, 200);
  ASSERT_EQ(Post(token_b_, "/servers/b/db/defaultdb/verified/set", SetBody("k", "value-b"))->status,
            200);

  // B's address answers with A's history and A's identity: B's trusted state
  // pins B, so this is tampering, and A's value never comes out as B's.
  proxy_b_->SetUpstream(a_->target());
  proxy_b_->SetUuid(kUuidA);
  auto as_a = Post(token_b_, "/servers/b/db/defaultdb/verified/get", GetBody("k"));
  ASSERT_TRUE(as_a);
  EXPECT_EQ(as_a->status, 409) << as_a->body;
  EXPECT_TRUE(Has(as_a, "tampering detected")) << as_a->body;
  EXPECT_FALSE(Has(as_a, B64("value-a")));

  // A's history under B's identity: not a history B's state is part of.
  proxy_b_->SetUuid(kUuidB);
  auto other_history = Post(token_b_, "/servers/b/db/defaultdb/verified/get", GetBody("k"));
  ASSERT_TRUE(other_history);
  EXPECT_EQ(other_history->status, 409) << other_history->body;
  auto write = Post(token_b_, "/servers/b/db/defaultdb/verified/set", SetBody("k2", "v"));
  ASSERT_TRUE(write);
  EXPECT_EQ(write->status, 409) << write->body;

  // A itself is unaffected; B verifies again once it is itself.
  auto a = Post(token_a_, "/db/defaultdb/verified/get", GetBody("k"));
  EXPECT_TRUE(Has(a, "\"value\":\"" + B64("value-a") + "\"") && Has(a, "\"verified\":true"))
      << (a ? a->body : "");
  proxy_b_->SetUpstream(b_->target());
  auto b = Post(token_b_, "/servers/b/db/defaultdb/verified/get", GetBody("k"));
  EXPECT_TRUE(Has(b, "\"value\":\"" + B64("value-b") + "\"") && Has(b, "\"verified\":true"))
      << (b ? b->body : "");
}

TEST_F(MultiServerTest, AuditsEveryServerWithItsCredentials) {
  GatewayOptions o = Options();
  o.audit = true;
  o.audit_options.username = "immudb";
  o.audit_options.password = "immudb";
  o.audit_options.interval = std::chrono::hours(1);  // Runs once at start.
  ServerOptions c;
  c.name = "c";
  c.port = b_->port();  // B without the proxy, audited as a user that cannot log in.
  c.audit_password = "wrong";
  o.servers.push_back(c);
  ASSERT_NO_FATAL_FAILURE(Start(std::move(o)));
  ASSERT_EQ(Post(token_a_, "/db/defaultdb/verified/set", SetBody("k", "value-a"))->status, 200);
  ASSERT_EQ(Post(token_b_, "/servers/b/db/defaultdb/verified/set", SetBody("k", "value-b"))->status,
            200);

  ASSERT_NE(gw_->auditor("default"), nullptr);
  ASSERT_NE(gw_->auditor("b"), nullptr);
  ASSERT_NE(gw_->auditor("c"), nullptr);
  const client::AuditReport ra = gw_->auditor("default")->RunOnce();
  const client::AuditReport rb = gw_->auditor("b")->RunOnce();
  ASSERT_EQ(ra.dbs.size(), 1u) << ra.error;
  ASSERT_EQ(rb.dbs.size(), 1u) << rb.error;
  EXPECT_EQ(ra.server_id, kUuidA);
  EXPECT_EQ(rb.server_id, kUuidB);
  EXPECT_EQ(ra.dbs[0].result, client::AuditResult::kOk) << ra.dbs[0].message;
  EXPECT_EQ(rb.dbs[0].result, client::AuditResult::kOk) << rb.dbs[0].message;
  const client::AuditReport rc = gw_->auditor("c")->RunOnce();
  EXPECT_TRUE(rc.failed());
  EXPECT_FALSE(rc.tampered());

  // Each server's metrics under its prefix.
  auto ma = Get(token_a_, "/metrics");
  auto mb = Get(token_a_, "/servers/b/metrics");
  ASSERT_TRUE(ma && mb);
  EXPECT_TRUE(Has(ma, std::string("server_id=\"") + kUuidA)) << ma->body;
  EXPECT_FALSE(Has(ma, kUuidB));
  EXPECT_TRUE(Has(mb, std::string("server_id=\"") + kUuidB)) << mb->body;
  EXPECT_FALSE(Has(mb, kUuidA));
}

std::vector<const char*> Argv(const std::vector<std::string>& args) {
  std::vector<const char*> out;
  for (const std::string& a : args) out.push_back(a.c_str());
  out.push_back(nullptr);
  return out;
}

Result<GatewayCommand> Parse(const std::vector<std::string>& args,
                             const std::vector<std::string>& env) {
  auto argv = Argv(args);
  auto envp = Argv(env);
  return ParseGatewayCommand(static_cast<int>(args.size()), argv.data(), envp.data());
}

TEST(ImmugwServersConfigTest, FlagEnvAndToml) {
  const std::string dir = ::testing::TempDir() + "/immugw_servers_cfg_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string no_home = "HOME=" + dir + "/nohome";

  // None: only the default server.
  auto none = Parse({"immugw"}, {no_home});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->options.servers.empty());

  // Flags, repeated, with further settings.
  auto flags = Parse({"immugw", "--server", "b=10.0.0.2:3322", "--server",
                      "c-1=[::1]:4000,audit-username=aud,audit-password=enc:cHc=,"
                      "server-signing-pub-key=/k.pem"},
                     {no_home, "IMMUGW_SERVERS=x=h:1"});
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  ASSERT_EQ(flags->options.servers.size(), 2u);
  EXPECT_EQ(flags->options.servers[0].name, "b");
  EXPECT_EQ(flags->options.servers[0].address, "10.0.0.2");
  EXPECT_EQ(flags->options.servers[0].port, 3322);
  EXPECT_FALSE(flags->options.servers[0].audit_username.has_value());
  EXPECT_EQ(flags->options.servers[1].name, "c-1");
  EXPECT_EQ(flags->options.servers[1].address, "::1");
  EXPECT_EQ(flags->options.servers[1].port, 4000);
  EXPECT_EQ(flags->options.servers[1].audit_username, "aud");
  EXPECT_EQ(flags->options.servers[1].audit_password, "pw");
  EXPECT_EQ(flags->options.servers[1].server_signing_pub_key, "/k.pem");

  // The environment, ';' or white space between servers.
  auto env = Parse({"immugw"}, {no_home, "IMMUGW_SERVERS=b=h1:1; c=h2:2\td=h3:3"});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  ASSERT_EQ(env->options.servers.size(), 3u);
  EXPECT_EQ(env->options.servers[2].name, "d");
  EXPECT_EQ(env->options.servers[2].address, "h3");

  // toml: a table per server, or an array of strings; the environment wins.
  const std::string file = dir + "/immugw.toml";
  std::ofstream(file) << "port = 4001\n[servers.b]\naddress = \"10.1.1.1\"\nport = 3322\n"
                         "audit-password = \"secret\"\n[servers.c]\naddress = \"h\"\nport = 5\n";
  auto table = Parse({"immugw", "--config", file}, {no_home});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->options.port, 4001);
  ASSERT_EQ(table->options.servers.size(), 2u);
  EXPECT_EQ(table->options.servers[0].name, "b");
  EXPECT_EQ(table->options.servers[0].address, "10.1.1.1");
  EXPECT_EQ(table->options.servers[0].audit_password, "secret");
  EXPECT_EQ(table->options.servers[1].port, 5);
  auto env_wins = Parse({"immugw", "--config", file}, {no_home, "IMMUGW_SERVERS=z=h:9"});
  ASSERT_TRUE(env_wins.ok());
  ASSERT_EQ(env_wins->options.servers.size(), 1u);
  EXPECT_EQ(env_wins->options.servers[0].name, "z");
  std::ofstream(file) << "servers = [\"b=h:1\", \"c=h:2,audit-username=u\"]\n";
  auto array = Parse({"immugw", "--config", file}, {no_home});
  ASSERT_TRUE(array.ok()) << array.status().ToString();
  ASSERT_EQ(array->options.servers.size(), 2u);
  EXPECT_EQ(array->options.servers[1].audit_username, "u");

  // Bad values: InvalidArgument that names the source and what is wrong.
  struct Bad {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string toml;  // "" = no file.
    std::string want;
  };
  const std::vector<Bad> bad = {
      {{"--server", "b"}, {}, "", "flag --server: server \"b\": no NAME="},
      {{"--server", "b=h"}, {}, "", "no :PORT"},
      {{"--server", "b=h:0"}, {}, "", "is not a port number"},
      {{"--server", "b=h:70000"}, {}, "", "is not a port number"},
      {{"--server", "b=:1"}, {}, "", "no HOST"},
      {{"--server", "b/x=h:1"}, {}, "", "server name \"b/x\""},
      {{"--server", "=h:1"}, {}, "", "server name \"\""},
      {{"--server", "default=h:1"}, {}, "", "reserved"},
      {{"--server", "b=h:1", "--server", "b=h:2"}, {}, "", "server b is given twice"},
      {{"--server", "b=127.0.0.1:3322"}, {}, "", "is server default again"},
      {{"--server", "b=h:1,color=red"}, {}, "", "unknown server setting color"},
      {{"--server", "b=h:1,audit-password=enc:%%"}, {}, "", "server \"b=h:1,audit-password"},
      {{}, {"IMMUGW_SERVERS=b=h:1;b=h:2"}, "", "environment IMMUGW_SERVERS: server b is given"},
      {{}, {}, "[servers.b]\naddress = \"h\"\n", "servers.b needs address and port"},
      {{}, {}, "[servers.b]\naddress = \"h\"\nport = \"1\"\n", "servers.b.port must be a port"},
      {{},
       {},
       "[servers.b]\naddress = \"h\"\nport = 1\ncolour = \"x\"\n",
       "servers.b: unknown server setting colour"},
      {{}, {}, "servers = 5\n", "servers must be an array of strings or a table"},
      {{}, {}, "servers = [1]\n", "each item must be a string"},
      {{}, {}, "[servers]\nb = \"h:1\"\n", "servers.b must be a table"},
      {{}, {}, "servers = [\"x=h:1\", \"x=h:2\"]\n", "config file " + file},
  };
  for (const Bad& b : bad) {
    std::vector<std::string> args = {"immugw"};
    args.insert(args.end(), b.args.begin(), b.args.end());
    if (!b.toml.empty()) {
      std::ofstream(file) << b.toml;
      args.push_back("--config");
      args.push_back(file);
    }
    std::vector<std::string> env_list = {no_home};
    env_list.insert(env_list.end(), b.env.begin(), b.env.end());
    auto r = Parse(args, env_list);
    ASSERT_FALSE(r.ok()) << b.want;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(b.want), std::string::npos)
        << r.status().message() << " / want: " << b.want;
  }
  std::filesystem::remove_all(dir);

  // Gateway::Create checks the list too.
  GatewayOptions o;
  o.servers.push_back(ServerOptions{.name = "a b"});
  EXPECT_TRUE(Gateway::Create(o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace immudb::gateway
