// immugw against real build/bin/immudb children: plain routes forward, safe
// routes verify (and report a lying server as tampering), settings follow
// flag > environment > file > default, the auditor's tampering notification
// carries the configured credentials, and the binary serves with --audit.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "client/auditor.h"
#include "cmd/immugw/config.h"
#include "cmd/immugw/gateway.h"
#include "gateway_harness.h"
#include "lying_proxy.h"
#include "server_process.h"
#include "testutil/test_util.h"
#include "webhook.h"

namespace immudb::gateway {
namespace {

using client::Base64Encode;
using client::testing::BinDir;
using client::testing::LyingProxy;
using client::testing::ServerProcess;
using client::testing::Webhook;

constexpr char kProxyUuid[] = "gwproxy0000000000000";

std::string B64(const std::string& s) { return Base64Encode(s); }

class ImmugwTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("immugw_test");
    server_ = std::make_unique<ServerProcess>(dir_ + "/a");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
  }
  void TearDown() override {
    http_.reset();
    gw_.reset();
    proxy_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts a gateway in front of `port` and logs in through it.
  void StartGateway(int port) {
    GatewayOptions o;
    o.immudb_port = port;
    o.dir = dir_ + "/gw";
    o.timeout = std::chrono::milliseconds(10000);
    std::string body;
    auto login = testing::StartGatewayAndLogin(std::move(o), &gw_, &http_, &token_, &body);
    ASSERT_TRUE(login.ok()) << login.status().ToString();
    ASSERT_EQ(*login, 200) << body;
    ASSERT_FALSE(token_.empty()) << body;
  }

  httplib::Headers Auth() const { return {{"Authorization", "Bearer " + token_}}; }

  httplib::Result Post(const std::string& path, const std::string& body) {
    return http_->Post(path.c_str(), Auth(), body, "application/json");
  }
  httplib::Result Get(const std::string& path) { return http_->Get(path.c_str(), Auth()); }

  static bool Has(const httplib::Result& res, const std::string& text) {
    return res && res->body.find(text) != std::string::npos;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<LyingProxy> proxy_;
  std::unique_ptr<Gateway> gw_;
  std::unique_ptr<httplib::Client> http_;
  std::string token_;
};

TEST_F(ImmugwTest, PlainRoutesForward) {
  StartGateway(server_->port());
  auto set = Post("/api/db/set",
                  R"({"KVs":[{"key":")" + B64("k1") + R"(","value":")" + B64("v1") + R"("}]})");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, 200) << set->body;
  EXPECT_TRUE(Has(set, "\"id\":\"1\"")) << set->body;
  EXPECT_FALSE(Has(set, "verified"));

  auto get = Get("/db/get/" + B64("k1"));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200) << get->body;
  EXPECT_TRUE(Has(get, "\"value\":\"" + B64("v1") + "\"")) << get->body;

  ASSERT_TRUE(Post("/db/set",
                   R"({"KVs":[{"key":")" + B64("k2") + R"(","value":")" + B64("v2") + R"("}]})"));
  auto scan = Post("/api/db/scan", R"({"prefix":")" + B64("k") + R"("})");
  ASSERT_TRUE(scan);
  EXPECT_TRUE(Has(scan, B64("v1")) && Has(scan, B64("v2"))) << scan->body;
  auto tx = Get("/api/db/tx/1");
  ASSERT_TRUE(tx);
  EXPECT_EQ(tx->status, 200) << tx->body;
  EXPECT_TRUE(Has(tx, "\"nentries\":1")) << tx->body;
  auto state = Get("/api/db/state");
  EXPECT_TRUE(Has(state, "\"txId\":\"2\"")) << (state ? state->body : "");
  auto health = http_->Get("/api/health");
  EXPECT_TRUE(Has(health, "\"status\":true"));

  // Errors carry the server's code and message.
  auto missing = Get("/db/get/" + B64("nope"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 500);
  EXPECT_TRUE(Has(missing, "key not found")) << missing->body;
  auto unauth = http_->Get(("/db/get/" + B64("k1")).c_str());
  ASSERT_TRUE(unauth);
  EXPECT_NE(unauth->status, 200);
  // Bad input: clear 400s, nothing written.
  auto bad = Post("/db/set", "{not json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(Has(bad, "malformed JSON")) << bad->body;
  auto unknown = Post("/db/set", R"({"nosuchfield":1})");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  auto badq = Get("/db/get/" + B64("k1") + "?noWait=maybe");
  ASSERT_TRUE(badq);
  EXPECT_EQ(badq->status, 400);
  auto none = Get("/db/nosuchroute");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  EXPECT_TRUE(Has(Get("/api/db/state"), "\"txId\":\"2\""));
}

TEST_F(ImmugwTest, SafeRoutesVerify) {
  StartGateway(server_->port());
  auto set = Post("/db/defaultdb/verified/set", R"({"setRequest":{"KVs":[{"key":")" + B64("k1") +
                                                    R"(","value":")" + B64("v1") + R"("}]}})");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->status, 200) << set->body;
  EXPECT_TRUE(Has(set, "\"id\":\"1\"") && Has(set, "\"verified\":true")) << set->body;

  auto get =
      Post("/api/db/defaultdb/verified/get", R"({"keyRequest":{"key":")" + B64("k1") + "\"}}");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200) << get->body;
  EXPECT_TRUE(Has(get, "\"value\":\"" + B64("v1") + "\"") && Has(get, "\"verified\":true"))
      << get->body;

  auto ref = Post("/db/defaultdb/verified/setreference", R"({"referenceRequest":{"key":")" +
                                                             B64("r1") + R"(","referencedKey":")" +
                                                             B64("k1") + "\"}}");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->status, 200) << ref->body;
  EXPECT_TRUE(Has(ref, "\"id\":\"2\"") && Has(ref, "\"verified\":true")) << ref->body;
  auto viaref =
      Post("/db/defaultdb/verified/get", R"({"keyRequest":{"key":")" + B64("r1") + "\"}}");
  EXPECT_TRUE(Has(viaref, "\"value\":\"" + B64("v1") + "\"")) << (viaref ? viaref->body : "");

  auto zadd =
      Post("/db/defaultdb/verified/zadd", R"({"zAddRequest":{"set":")" + B64("s") +
                                              R"(","score":1.5,"key":")" + B64("k1") + "\"}}");
  ASSERT_TRUE(zadd);
  EXPECT_EQ(zadd->status, 200) << zadd->body;
  EXPECT_TRUE(Has(zadd, "\"id\":\"3\"") && Has(zadd, "\"verified\":true")) << zadd->body;

  auto tx = Get("/db/defaultdb/verified/tx/1");
  ASSERT_TRUE(tx);
  EXPECT_EQ(tx->status, 200) << tx->body;
  EXPECT_TRUE(Has(tx, "\"verified\":true") && Has(tx, "\"entries\"")) << tx->body;

  struct stat st;
  ASSERT_EQ(::stat(gw_->state_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Bad input is refused before anything is sent.
  auto two = Post(
      "/db/defaultdb/verified/set",
      R"({"setRequest":{"KVs":[{"key":"YQ==","value":"YQ=="},{"key":"Yg==","value":"Yg=="}]}})");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->status, 400);
  auto nodb = Post("/db/nosuchdb/verified/get", R"({"keyRequest":{"key":"YQ=="}})");
  ASSERT_TRUE(nodb);
  EXPECT_NE(nodb->status, 200);
  EXPECT_FALSE(Has(nodb, "tampering"));
  EXPECT_TRUE(Has(Get("/api/db/state"), "\"txId\":\"3\""));
}

TEST_F(ImmugwTest, LyingServerIsTampering) {
  proxy_ = std::make_unique<LyingProxy>(server_->target(), kProxyUuid);
  StartGateway(proxy_->port());
  auto set = Post("/db/defaultdb/verified/set", R"({"setRequest":{"KVs":[{"key":")" + B64("k1") +
                                                    R"(","value":")" + B64("v1") + R"("}]}})");
  ASSERT_TRUE(set);
  ASSERT_EQ(set->status, 200) << set->body;

  // A changed value.
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* reply) {
    if (rpc == "VerifiableGet")
      static_cast<schema::VerifiableEntry*>(reply)->mutable_entry()->set_value("forged");
  });
  auto get = Post("/db/defaultdb/verified/get", R"({"keyRequest":{"key":")" + B64("k1") + "\"}}");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 409) << get->body;
  EXPECT_TRUE(Has(get, "tampering detected") && Has(get, "\"code\":10")) << get->body;
  EXPECT_FALSE(Has(get, "Zm9yZ2Vk"));

  // A write whose reply is not what was written.
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* reply) {
    if (rpc != "VerifiableSet") return;
    auto* v = static_cast<schema::VerifiableTx*>(reply);
    if (v->tx().entries_size() > 0)
      v->mutable_tx()->mutable_entries(0)->set_hvalue(std::string(32, 'x'));
  });
  auto set2 = Post("/db/defaultdb/verified/set", R"({"setRequest":{"KVs":[{"key":")" + B64("k2") +
                                                     R"(","value":")" + B64("v2") + R"("}]}})");
  ASSERT_TRUE(set2);
  EXPECT_EQ(set2->status, 409) << set2->body;

  // A forged transaction.
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* reply) {
    if (rpc != "VerifiableTxById") return;
    auto* v = static_cast<schema::VerifiableTx*>(reply);
    v->mutable_tx()->mutable_header()->set_ts(v->tx().header().ts() + 1);
  });
  auto tx = Get("/db/defaultdb/verified/tx/1");
  ASSERT_TRUE(tx);
  EXPECT_EQ(tx->status, 409) << tx->body;

  // Another server identity.
  proxy_->SetTamper(nullptr);
  proxy_->SetUuid("otheruuid00000000000");
  auto other = Post("/db/defaultdb/verified/get", R"({"keyRequest":{"key":")" + B64("k1") + "\"}}");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 409) << other->body;

  // Honest again: the trusted state was never moved by a bad reply.
  proxy_->SetUuid(kProxyUuid);
  auto ok = Post("/db/defaultdb/verified/get", R"({"keyRequest":{"key":")" + B64("k1") + "\"}}");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_TRUE(Has(ok, "\"verified\":true"));
}

std::vector<const char*> Argv(const std::vector<std::string>& args) {
  std::vector<const char*> out;
  for (const std::string& a : args) out.push_back(a.c_str());
  out.push_back(nullptr);
  return out;
}

TEST(ImmugwConfigTest, FlagBeatsEnvBeatsFileBeatsDefault) {
  const std::string dir = ::testing::TempDir() + "/immugw_cfg_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/immugw.toml";
  std::ofstream(file) << "port = 4001\nimmudb-port = 4002\ndir = \"/from/file\"\n"
                         "audit-interval = \"10s\"\n";
  const std::vector<std::string> args = {"immugw", "--config", file, "--port", "4100"};
  const std::vector<std::string> env = {"IMMUGW_PORT=4200", "IMMUGW_IMMUDB_PORT=4300",
                                        "IMMUGW_AUDIT=true"};
  auto argv = Argv(args);
  auto envp = Argv(env);
  auto cmd = ParseGatewayCommand(static_cast<int>(args.size()), argv.data(), envp.data());
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->options.port, 4100);         // flag
  EXPECT_EQ(cmd->options.immudb_port, 4300);  // environment
  EXPECT_EQ(cmd->options.dir, "/from/file");  // file
  EXPECT_EQ(cmd->options.audit_options.interval, std::chrono::milliseconds(10000));
  EXPECT_TRUE(cmd->options.audit);
  EXPECT_EQ(cmd->options.address, "0.0.0.0");  // default
  EXPECT_EQ(cmd->options.audit_options.username, "immugwauditor");

  const std::vector<std::string> none = {"immugw"};
  const std::vector<std::string> no_env = {"HOME=" + dir + "/nohome"};
  auto argv0 = Argv(none);
  auto env0 = Argv(no_env);
  auto defaults = ParseGatewayCommand(1, argv0.data(), env0.data());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->options.port, 3323);
  EXPECT_EQ(defaults->options.immudb_port, 3322);
  EXPECT_FALSE(defaults->options.audit);

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"immugw", "--port", "x"},
        std::vector<std::string>{"immugw", "--audit-interval", "5"},
        std::vector<std::string>{"immugw", "--config", dir + "/missing.toml"},
        std::vector<std::string>{"immugw", "--nosuchflag"}}) {
    auto a = Argv(bad);
    EXPECT_TRUE(ParseGatewayCommand(static_cast<int>(bad.size()), a.data(), env0.data())
                    .status()
                    .IsInvalidArgument())
        << bad.back();
  }
  std::ofstream(file) << "nosuchkey = 1\n";
  auto unknown = ParseGatewayCommand(3, Argv({"immugw", "--config", file}).data(), env0.data());
  EXPECT_TRUE(unknown.status().IsInvalidArgument());
  std::filesystem::remove_all(dir);
}

TEST_F(ImmugwTest, AuditNotificationCarriesItsCredentials) {
  proxy_ = std::make_unique<LyingProxy>(server_->target(), kProxyUuid);
  Webhook hook;
  // The username from a flag, the password from the environment.
  const std::vector<std::string> args = {"immugw",
                                         "--immudb-port",
                                         std::to_string(proxy_->port()),
                                         "--dir",
                                         dir_ + "/gw",
                                         "--audit",
                                         "--audit-username",
                                         "immudb",
                                         "--audit-password",
                                         "immudb",
                                         "--audit-notification-url",
                                         hook.url(),
                                         "--audit-notification-username",
                                         "hook-user"};
  const std::vector<std::string> env = {"HOME=" + dir_ + "/nohome",
                                        "IMMUGW_AUDIT_NOTIFICATION_PASSWORD=hook-secret"};
  auto argv = Argv(args);
  auto envp = Argv(env);
  auto cmd = ParseGatewayCommand(static_cast<int>(args.size()), argv.data(), envp.data());
  ASSERT_TRUE(cmd.ok()) << cmd.status().ToString();
  EXPECT_EQ(cmd->options.audit_options.notification_username, "hook-user");
  EXPECT_EQ(cmd->options.audit_options.notification_password, "hook-secret");
  auto gw = Gateway::Create(cmd->options);
  ASSERT_TRUE(gw.ok()) << gw.status().ToString();
  client::Auditor* auditor = (*gw)->auditor();
  ASSERT_NE(auditor, nullptr);

  StartGateway(server_->port());
  ASSERT_EQ(Post("/db/defaultdb/verified/set", R"({"setRequest":{"KVs":[{"key":")" + B64("k1") +
                                                   R"(","value":")" + B64("v1") + R"("}]}})")
                ->status,
            200);
  client::AuditReport first = auditor->RunOnce();
  ASSERT_EQ(first.dbs.size(), 1u) << first.error;
  ASSERT_EQ(first.dbs[0].result, client::AuditResult::kOk) << first.dbs[0].message;
  EXPECT_TRUE(hook.bodies().empty());

  // A value that does not match its hash: tampering, and the webhook is told.
  ASSERT_EQ(Post("/db/defaultdb/verified/set", R"({"setRequest":{"KVs":[{"key":")" + B64("k2") +
                                                   R"(","value":")" + B64("v2") + R"("}]}})")
                ->status,
            200);
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* reply) {
    if (rpc != "TxById") return;
    for (auto& e : *static_cast<schema::Tx*>(reply)->mutable_entries()) e.set_value("forged");
  });
  client::AuditReport second = auditor->RunOnce();
  ASSERT_EQ(second.dbs.size(), 1u) << second.error;
  EXPECT_EQ(second.dbs[0].result, client::AuditResult::kTampered) << second.dbs[0].message;
  const std::vector<std::string> bodies = hook.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_NE(bodies[0].find("\"username\":\"hook-user\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"password\":\"hook-secret\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"tampered\":true"), std::string::npos) << bodies[0];
}

TEST_F(ImmugwTest, BinaryServesAndAudits) {
  const std::string log = dir_ + "/immugw.log";
  const std::string pidfile = dir_ + "/immugw.pid";
  std::vector<std::string> args = {BinDir() + "/immugw",
                                   "--address",
                                   "127.0.0.1",
                                   "--port",
                                   "0",
                                   "--immudb-port",
                                   std::to_string(server_->port()),
                                   "--dir",
                                   dir_ + "/gwdir",
                                   "--logfile",
                                   log,
                                   "--pidfile",
                                   pidfile,
                                   "--audit",
                                   "--audit-username",
                                   "immudb",
                                   "--audit-password",
                                   "enc:aW1tdWRi",
                                   "--audit-interval",
                                   "100ms"};
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int port = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (port == 0 && std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(log);
    std::stringstream s;
    s << in.rdbuf();
    const std::string text = s.str();
    const std::string marker = "listening on 127.0.0.1:";
    // Only a whole line: the log may end inside the number.
    if (size_t at = text.find(marker);
        at != std::string::npos && text.find('\n', at) != std::string::npos) {
      port = std::atoi(text.c_str() + at + marker.size());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(port, 0);
  EXPECT_TRUE(std::filesystem::exists(pidfile));
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(10, 0);
  bool audited = false;
  while (!audited && std::chrono::steady_clock::now() < deadline) {
    auto res = http.Get("/metrics");
    audited = res && res->body.find("db=\"defaultdb\"} -1\n") != std::string::npos;
    if (!audited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(audited);
  auto health = http.Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ADD_FAILURE() << "immugw did not stop on SIGTERM";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(std::filesystem::exists(pidfile));
}

}  // namespace
}  // namespace immudb::gateway
