// Auditor against real build/bin/immudb children: honest data passes, an
// edited value on disk and a lying server (LyingProxy) are reported as
// tampering (result, metrics, webhook), and `immuclient audit-mode` runs.
#include "client/auditor.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/client.h"
#include "client/tampering.h"
#include "lying_proxy.h"
#include "server_process.h"
#include "tamper_files.h"
#include "test_certs.h"
#include "testutil/test_util.h"
#include "webhook.h"

namespace immudb::client {
namespace {

using testing::BinDir;
using testing::FindStoredValue;
using testing::FlipByte;
using testing::LyingProxy;
using testing::RunShell;
using testing::ServerProcess;
using testing::StoredBytes;
using testing::Webhook;

constexpr char kProxyUuid[] = "auditproxy0000000000";

class AuditorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("audit_test");
    server_ = std::make_unique<ServerProcess>(dir_ + "/a");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
  }
  void TearDown() override {
    auditor_.reset();
    proxy_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Client> Connect(int port) {
    Options o;
    o.port = port;
    o.state_dir = dir_;
    auto c = Client::Open(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    Status st = (*c)->Login("immudb", "immudb");
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::move(c).value();
  }

  void Write(int port, const std::string& key, const std::string& value) {
    auto c = Connect(port);
    auto h = c->Set(key, value);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
  }

  // An auditor of `port` with its state in dir_/state; no monitoring server.
  // `pub_key`: the server's public key file, checked against every state.
  Auditor* MakeAuditor(int port, const std::string& webhook = "", const std::string& pub_key = "") {
    AuditorOptions o;
    o.client.port = port;
    o.client.server_signing_pub_key = pub_key;
    o.state_dir = dir_ + "/state";
    o.notification_url = webhook;
    o.notification_username = "hookuser";
    o.monitoring_port = -1;
    o.interval = std::chrono::milliseconds(50);
    o.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_ += line + "\n";
    };
    auto a = Auditor::Create(std::move(o));
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    auditor_ = std::move(a).value();
    return auditor_.get();
  }

  // Stops the server, changes the first byte of `value` where it is stored,
  // and restarts the server behind proxy_.
  void EditValueWhileStopped(const std::string& value) {
    server_->Stop();
    StoredBytes at;
    std::string error;
    ASSERT_TRUE(FindStoredValue(dir_ + "/a/data", value, &at, &error)) << error;
    ASSERT_TRUE(FlipByte(at.file, at.offset));
    ASSERT_TRUE(server_->Start(&error)) << error;
    proxy_->SetUpstream(server_->target());
  }

  static const DbAudit* Find(const AuditReport& r, const std::string& db) {
    for (const DbAudit& a : r.dbs) {
      if (a.db == db) return &a;
    }
    return nullptr;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<LyingProxy> proxy_;
  std::unique_ptr<Auditor> auditor_;
  std::mutex log_mu_;
  std::string log_;
};

TEST_F(AuditorTest, HonestDataPassesAndStateAdvances) {
  const int port = server_->port();
  for (int i = 0; i < 3; ++i) Write(port, "k" + std::to_string(i), "v" + std::to_string(i));
  Auditor* a = MakeAuditor(port);

  AuditReport r1 = a->RunOnce();
  ASSERT_TRUE(r1.error.empty()) << r1.error;
  const DbAudit* d1 = Find(r1, "defaultdb");
  ASSERT_NE(d1, nullptr);
  EXPECT_EQ(d1->result, AuditResult::kOk) << d1->message;
  EXPECT_FALSE(d1->previous.has_value());
  ASSERT_TRUE(d1->current.has_value());
  EXPECT_EQ(d1->current->tx_id, 3u);
  EXPECT_EQ(d1->txs_checked, 3u);
  EXPECT_FALSE(r1.server_id.empty());

  struct stat st;
  ASSERT_EQ(::stat(a->state_path().c_str(), &st), 0) << a->state_path();
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Write(port, "k3", "v3");
  Write(port, "k4", "v4");
  AuditReport r2 = a->RunOnce();
  const DbAudit* d2 = Find(r2, "defaultdb");
  ASSERT_NE(d2, nullptr);
  EXPECT_EQ(d2->result, AuditResult::kOk) << d2->message;
  ASSERT_TRUE(d2->previous.has_value());
  EXPECT_EQ(d2->previous->tx_id, 3u);
  EXPECT_EQ(d2->current->tx_id, 5u);
  EXPECT_EQ(d2->txs_checked, 2u);

  // Nothing new: still consistent, nothing re-read.
  AuditReport r3 = a->RunOnce();
  EXPECT_EQ(Find(r3, "defaultdb")->result, AuditResult::kOk);
  EXPECT_EQ(Find(r3, "defaultdb")->txs_checked, 0u);
  EXPECT_EQ(r3.run, 3u);

  const std::string m = a->Metrics();
  const std::string labels = "{server_id=\"" + r1.server_id +
                             "\",server_address=\"127.0.0.1:" + std::to_string(port) +
                             "\",db=\"defaultdb\"}";
  EXPECT_NE(m.find("immuclient_audit_result_per_server" + labels + " 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("immuclient_audit_curr_root_per_server" + labels + " 5\n"), std::string::npos);
  EXPECT_NE(m.find("immuclient_audit_prev_root_per_server" + labels + " 5\n"), std::string::npos);
  EXPECT_NE(m.find("immuclient_audit_txs_checked_total" + labels + " 5\n"), std::string::npos);
  EXPECT_NE(m.find("immuclient_audit_runs_total 3\n"), std::string::npos);
  EXPECT_NE(m.find("immuclient_audit_tampering_total 0\n"), std::string::npos);
  EXPECT_EQ(a->tampering_count(), 0u);
  EXPECT_NE(log_.find("consistent: true"), std::string::npos) << log_;
}

TEST_F(AuditorTest, EmptyDatabaseIsNotChecked) {
  Auditor* a = MakeAuditor(server_->port());
  AuditReport r = a->RunOnce();
  const DbAudit* d = Find(r, "defaultdb");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->result, AuditResult::kNotChecked) << d->message;
  EXPECT_FALSE(r.failed());
}

TEST_F(AuditorTest, WrongPasswordIsAnErrorNotTampering) {
  AuditorOptions o;
  o.client.port = server_->port();
  o.password = "wrong";
  o.state_dir = dir_ + "/state";
  o.monitoring_port = -1;
  auto a = Auditor::Create(std::move(o));
  ASSERT_TRUE(a.ok());
  AuditReport r = (*a)->RunOnce();
  EXPECT_TRUE(r.failed());
  EXPECT_FALSE(r.tampered());
  EXPECT_NE(r.error.find("login"), std::string::npos) << r.error;
  EXPECT_EQ((*a)->error_count(), 1u);
}

TEST_F(AuditorTest, BadOptionsAreRejected) {
  AuditorOptions o;
  o.notification_url = "ftp://example/hook";
  EXPECT_TRUE(Auditor::Create(o).status().IsInvalidArgument());
  o.notification_url.clear();
  o.interval = std::chrono::milliseconds(0);
  EXPECT_TRUE(Auditor::Create(o).status().IsInvalidArgument());
  o.interval = std::chrono::milliseconds(10);
  o.client.server_signing_pub_key = dir_ + "/missing.pub";
  EXPECT_FALSE(Auditor::Create(o).ok());
}

TEST_F(AuditorTest, EditedValueFileIsTampering) {
  // The auditor reaches the server through an honest proxy, so its address
  // stays the same when the server restarts on another port.
  proxy_ = std::make_unique<LyingProxy>(server_->target(), kProxyUuid);
  Webhook hook;
  const int port = server_->port();
  for (int i = 0; i < 3; ++i) Write(port, "k" + std::to_string(i), "v" + std::to_string(i));
  Auditor* a = MakeAuditor(proxy_->port(), hook.url());
  AuditReport r1 = a->RunOnce();
  ASSERT_EQ(Find(r1, "defaultdb")->result, AuditResult::kOk) << Find(r1, "defaultdb")->message;

  // Three more transactions; the first of them gets edited on disk.
  Write(port, "k3", "value-to-be-edited");
  Write(port, "k4", "v4");
  Write(port, "k5", "v5");
  ASSERT_NO_FATAL_FAILURE(EditValueWhileStopped("value-to-be-edited"));

  AuditReport r2 = a->RunOnce();
  const DbAudit* d = Find(r2, "defaultdb");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->result, AuditResult::kTampered) << d->message;
  EXPECT_NE(d->message.find("tx 4"), std::string::npos) << d->message;
  EXPECT_TRUE(r2.tampered());

  // The trusted state stays at tx 3; the metric and the webhook report it.
  const std::string m = a->Metrics();
  EXPECT_NE(m.find("immuclient_audit_result_per_server{server_id=\"" + std::string(kProxyUuid)),
            std::string::npos);
  EXPECT_NE(m.find("db=\"defaultdb\"} 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("immuclient_audit_tampering_total 1\n"), std::string::npos) << m;
  auto bodies = hook.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_NE(bodies[0].find("\"tampered\":true"), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"db\":\"defaultdb\""), std::string::npos);
  EXPECT_NE(bodies[0].find("\"username\":\"hookuser\""), std::string::npos);
  EXPECT_NE(bodies[0].find("\"previous_state\":{\"tx\":3,"), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"current_state\":{\"tx\":6,"), std::string::npos) << bodies[0];

  // It keeps failing on later runs: the state did not move past the edit.
  AuditReport r3 = a->RunOnce();
  EXPECT_EQ(Find(r3, "defaultdb")->result, AuditResult::kTampered);
  ASSERT_TRUE(Find(r3, "defaultdb")->previous.has_value());
  EXPECT_EQ(Find(r3, "defaultdb")->previous->tx_id, 3u);
}

TEST_F(AuditorTest, LyingServerIsTampering) {
  proxy_ = std::make_unique<LyingProxy>(server_->target(), kProxyUuid);
  Webhook hook;
  const int port = server_->port();
  Write(port, "k0", "v0");
  Write(port, "k1", "v1");
  Auditor* a = MakeAuditor(proxy_->port(), hook.url());
  ASSERT_EQ(Find(a->RunOnce(), "defaultdb")->result, AuditResult::kOk);
  Write(port, "k2", "v2");

  // A value that does not match its entry hash.
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* reply) {
    if (rpc != "TxById") return;
    auto* tx = static_cast<schema::Tx*>(reply);
    for (auto& e : *tx->mutable_entries()) e.set_value(e.value() + "x");
  });
  const DbAudit* d = nullptr;
  AuditReport r = a->RunOnce();
  d = Find(r, "defaultdb");
  EXPECT_EQ(d->result, AuditResult::kTampered) << d->message;
  EXPECT_NE(d->message.find("value does not match its hash"), std::string::npos) << d->message;

  // A dual proof that does not lead from the trusted state.
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* reply) {
    if (rpc != "VerifiableTxById") return;
    auto* v = static_cast<schema::VerifiableTx*>(reply);
    std::string* t = v->mutable_dualproof()->mutable_targetbltxalh();
    if (!t->empty()) (*t)[0] ^= 1;
    auto* lp = v->mutable_dualproof()->mutable_linearproof();
    if (lp->terms_size() > 0) (*lp->mutable_terms(0))[0] ^= 1;
  });
  r = a->RunOnce();
  d = Find(r, "defaultdb");
  EXPECT_EQ(d->result, AuditResult::kTampered) << d->message;

  // A state that goes backwards.
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* reply) {
    if (rpc != "CurrentState") return;
    auto* s = static_cast<schema::ImmutableState*>(reply);
    s->set_txid(1);
  });
  r = a->RunOnce();
  d = Find(r, "defaultdb");
  EXPECT_EQ(d->result, AuditResult::kTampered) << d->message;
  EXPECT_NE(d->message.find("backwards"), std::string::npos) << d->message;
  EXPECT_EQ(hook.bodies().size(), 3u);
  EXPECT_EQ(a->tampering_count(), 3u);

  // The trusted state never moved: honest replies verify again from tx 2.
  proxy_->SetTamper(nullptr);
  r = a->RunOnce();
  d = Find(r, "defaultdb");
  EXPECT_EQ(d->result, AuditResult::kOk) << d->message;
  EXPECT_EQ(d->previous->tx_id, 2u);
  EXPECT_EQ(d->current->tx_id, 3u);
}

TEST_F(AuditorTest, MonitoringServerServesMetrics) {
  Write(server_->port(), "k", "v");
  AuditorOptions o;
  o.client.port = server_->port();
  o.state_dir = dir_ + "/state";
  o.monitoring_address = "127.0.0.1";
  o.monitoring_port = 0;
  o.interval = std::chrono::milliseconds(20);
  auto created = Auditor::Create(std::move(o));
  ASSERT_TRUE(created.ok());
  Auditor* a = created->get();
  ASSERT_TRUE(a->Start(2).ok());
  ASSERT_GT(a->monitoring_port(), 0);
  EXPECT_TRUE(a->WaitFor(std::chrono::seconds(20)));
  httplib::Client http("127.0.0.1", a->monitoring_port());
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("immuclient_audit_runs_total 2\n"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("db=\"defaultdb\"} 1\n"), std::string::npos) << res->body;
  // Go expvar's page: the command line, this process's memory, the counters.
  auto vars = http.Get("/debug/vars");
  ASSERT_TRUE(vars);
  EXPECT_EQ(vars->status, 200);
  EXPECT_EQ(vars->get_header_value("Content-Type"), "application/json; charset=utf-8");
  const std::string& v = vars->body;
  EXPECT_TRUE(v.starts_with("{\"cmdline\":[\"")) << v;
  EXPECT_NE(v.find("audit_tests\""), std::string::npos) << v;
  for (const char* field : {"\"RSS\":", "\"MaxRSS\":", "\"VmSize\":", "\"NumThread\":",
                            "\"HeapAlloc\":", "\"HeapSys\":"}) {
    EXPECT_NE(v.find(field), std::string::npos) << field << " in " << v;
  }
  const size_t rss = v.find("\"memstats\":{\"RSS\":");
  ASSERT_NE(rss, std::string::npos) << v;
  EXPECT_GT(std::strtoull(v.c_str() + rss + 19, nullptr, 10), 1000000u) << v;
  EXPECT_NE(
      v.find("\"auditor\":{\"server_address\":\"127.0.0.1:" + std::to_string(server_->port()) +
             "\",\"runs\":2,\"tampering\":0,\"errors\":0,\"databases\":{\"defaultdb\":{"),
      std::string::npos)
      << v;
  EXPECT_NE(v.find("\"result\":1,\"prev_tx\":1,\"curr_tx\":1,"), std::string::npos) << v;
  EXPECT_NE(v.find("\"txs_checked\":1}}}}\n"), std::string::npos) << v;
  auto ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  a->Stop();
  a->Stop();
}

// Runs `command`, returning its exit status and stdout+stderr in *out.
int RunCommand(const std::string& command, std::string* out) {
  int code = -1;
  *out += RunShell(command + " 2>&1", &code);
  return code;
}

TEST_F(AuditorTest, ImmuclientAuditModeRuns) {
  Write(server_->port(), "k", "v");
  const std::string base = BinDir() + "/immuclient -a 127.0.0.1 -p " +
                           std::to_string(server_->port()) + " --dir " + dir_ +
                           " audit-mode --audit-password immudb --audit-monitoring-port -1 "
                           "--audit-runs 2";
  std::string out;
  EXPECT_EQ(RunCommand(base + " --audit-interval 50ms", &out), 0) << out;
  EXPECT_NE(out.find("audit #2 result: db: defaultdb, consistent: true"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/auditor"));

  out.clear();
  EXPECT_EQ(RunCommand(base + " --audit-interval 5x", &out), 1) << out;
  EXPECT_NE(out.find("invalid duration"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCommand(base + " --audit-interval 50ms --root " + dir_, &out), 1) << out;
  EXPECT_NE(out.find("--root applies to install and uninstall only"), std::string::npos) << out;
}

// The audit flags are global flags, as immudb's: accepted before the command
// as well as after it, and read from immuclient.toml.
TEST_F(AuditorTest, ImmuclientAuditFlagsAreGlobal) {
  Write(server_->port(), "k", "v");
  const std::string immuclient =
      BinDir() + "/immuclient -p " + std::to_string(server_->port()) + " --dir " + dir_ + " ";
  const std::string flags = "--audit-monitoring-port -1 --audit-runs 1 ";
  std::string out;
  EXPECT_EQ(RunCommand(immuclient + "--audit-password immudb " + flags + "audit-mode", &out), 0)
      << out;
  EXPECT_NE(out.find("audit #1 result: db: defaultdb, consistent: true"), std::string::npos) << out;
  // The flags before the command are the ones used: another user fails to log in.
  out.clear();
  EXPECT_EQ(RunCommand(immuclient + "--audit-username nobody --audit-password immudb " + flags +
                           "audit-mode",
                       &out),
            1)
      << out;
  EXPECT_NE(out.find("login as nobody"), std::string::npos) << out;

  // From the settings file: every audit flag is a known key.
  const std::string cfg = dir_ + "/immuclient.toml";
  std::ofstream(cfg) << "audit-username = \"immudb\"\naudit-password = \"immudb\"\n"
                     << "audit-databases = \"default\"\naudit-verify-values = true\n"
                     << "audit-notification-url = \"\"\naudit-notification-username = \"\"\n"
                     << "audit-notification-password = \"\"\n"
                     << "audit-monitoring-host = \"127.0.0.1\"\naudit-monitoring-port = -1\n"
                     << "audit-interval = \"50ms\"\naudit-runs = 2\n"
                     << "roots-filepath = \"" << dir_ << "/roots\"\n";
  out.clear();
  EXPECT_EQ(RunCommand(immuclient + "--config " + cfg + " audit-mode", &out), 0) << out;
  EXPECT_NE(out.find("audit #2 result: db: defaultdb, consistent: true"), std::string::npos) << out;
  EXPECT_NE(out.find("auditor state file: " + dir_ + "/roots/"), std::string::npos) << out;
  // A flag, before or after the command, still wins over the file.
  for (const char* args :
       {"--audit-password wrong audit-mode", "audit-mode --audit-password wrong"}) {
    out.clear();
    EXPECT_EQ(RunCommand(immuclient + "--config " + cfg + " " + args, &out), 1) << args << out;
    EXPECT_NE(out.find("login as immudb"), std::string::npos) << out;
  }
}

// The monitoring server of `immuclient audit-mode` serves /debug/vars with the
// program's command line, password values hidden; SIGTERM stops it (code 0).
TEST_F(AuditorTest, ImmuclientAuditModeServesDebugVars) {
  Write(server_->port(), "k", "v");
  const std::string log = dir_ + "/audit-mode.log";
  const pid_t pid = testing::Spawn(
      {BinDir() + "/immuclient", "-p", std::to_string(server_->port()), "--dir", dir_,
       "--audit-password", "immudb", "--audit-notification-password=hooksecret",
       "--audit-monitoring-host", "127.0.0.1", "--audit-monitoring-port", "0", "--audit-interval",
       "50ms", "audit-mode"},
      log);
  ASSERT_GT(pid, 0);
  const std::string marker = "audit monitoring server listening on 127.0.0.1:";
  int port = 0;
  std::string text;
  for (int i = 0; i < 1000 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    text = testutil::ReadAll(log);
    // Only a whole line: the log may end inside it.
    if (const size_t at = text.find(marker); at != std::string::npos) {
      const size_t end = text.find('\n', at);
      if (end != std::string::npos) port = std::atoi(text.substr(at + marker.size()).c_str());
    }
  }
  // A refused or failed request is retried for up to 5 s; the last failure is
  // reported with the program's log.
  std::string body;
  std::string failure;
  for (int i = 0; port > 0 && body.empty() && i < 100; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto res = httplib::Client("127.0.0.1", port).Get("/debug/vars");
    if (!res) {
      failure = "request failed: " + httplib::to_string(res.error());
    } else if (res->status != 200) {
      failure = "HTTP " + std::to_string(res->status);
    } else {
      body = res->body;
    }
  }
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_GT(port, 0) << text;
  ASSERT_FALSE(body.empty()) << failure << "\n" << testutil::ReadAll(log);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(body.starts_with("{\"cmdline\":[\"" + BinDir() + "/immuclient\",\"-p\",")) << body;
  EXPECT_NE(body.find("\"--audit-password\",\"***\",\"--audit-notification-password=***\","),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("hooksecret"), std::string::npos) << body;
  EXPECT_NE(body.find("\"audit-mode\"],\"memstats\":{\"RSS\":"), std::string::npos) << body;
  EXPECT_NE(body.find("\"auditor\":{\"server_address\":\"127.0.0.1:" +
                      std::to_string(server_->port()) + "\","),
            std::string::npos)
      << body;
}

TEST_F(AuditorTest, SignedStatesVerifyOnlyWithTheServersKey) {
  ASSERT_TRUE(testing::WriteSigningKeyPair(dir_ + "/server.pem", dir_ + "/server.pub"));
  ASSERT_TRUE(testing::WriteSigningKeyPair(dir_ + "/other.pem", dir_ + "/other.pub"));
  ServerProcess signing(dir_ + "/signing", {"--signingKey", dir_ + "/server.pem"});
  std::string error;
  ASSERT_TRUE(signing.Start(&error)) << error;
  Write(signing.port(), "k", "v");

  // Another key: tampering, and nothing is trusted.
  AuditReport r = MakeAuditor(signing.port(), "", dir_ + "/other.pub")->RunOnce();
  const DbAudit* d = Find(r, "defaultdb");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->result, AuditResult::kTampered) << d->message;
  EXPECT_NE(d->message.find("wrong signature"), std::string::npos) << d->message;
  EXPECT_EQ(auditor_->tampering_count(), 1u);

  // The server's key: verified, from no trusted state (the failed run stored none).
  Auditor* a = MakeAuditor(signing.port(), "", dir_ + "/server.pub");
  r = a->RunOnce();
  d = Find(r, "defaultdb");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->result, AuditResult::kOk) << d->message;
  EXPECT_FALSE(d->previous.has_value());
  EXPECT_EQ(d->txs_checked, 1u);
  Write(signing.port(), "k", "v2");
  r = a->RunOnce();
  d = Find(r, "defaultdb");
  EXPECT_EQ(d->result, AuditResult::kOk) << d->message;
  ASSERT_TRUE(d->previous.has_value());
  EXPECT_EQ(d->previous->tx_id, 1u);
  EXPECT_EQ(d->current->tx_id, 2u);

  // A server that does not sign, audited with a key: tampering.
  Write(server_->port(), "k", "v");
  r = MakeAuditor(server_->port(), "", dir_ + "/server.pub")->RunOnce();
  d = Find(r, "defaultdb");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->result, AuditResult::kTampered) << d->message;
  EXPECT_NE(d->message.find("is not signed"), std::string::npos) << d->message;
}

// `immuclient audit-mode` itself against a value edited on disk: it reports
// the tampering, posts it to the webhook and, after --audit-runs runs,
// exits with code 2.
TEST_F(AuditorTest, ImmuclientAuditModeReportsEditedValue) {
  // Through an honest proxy, so the audited address stays the same when the
  // server restarts on another port.
  proxy_ = std::make_unique<LyingProxy>(server_->target(), kProxyUuid);
  Webhook hook;
  const int port = server_->port();
  for (int i = 0; i < 3; ++i) Write(port, "k" + std::to_string(i), "v" + std::to_string(i));
  const std::string audit = BinDir() + "/immuclient -p " + std::to_string(proxy_->port()) +
                            " --dir " + dir_ + " --audit-password immudb" +
                            " --audit-monitoring-port -1 --audit-interval 50ms" +
                            " --audit-notification-url " + hook.url() +
                            " --audit-notification-username hookuser audit-mode --audit-runs ";
  std::string out;
  ASSERT_EQ(RunCommand(audit + "1", &out), 0) << out;
  ASSERT_NE(out.find("audit #1 result: db: defaultdb, consistent: true"), std::string::npos) << out;

  Write(port, "k3", "value-to-be-edited");
  Write(port, "k4", "v4");
  ASSERT_NO_FATAL_FAILURE(EditValueWhileStopped("value-to-be-edited"));

  out.clear();
  EXPECT_EQ(RunCommand(audit + "2", &out), 2) << out;
  for (const char* run : {"audit #1", "audit #2"}) {
    EXPECT_NE(out.find(std::string(run) +
                       " result: db: defaultdb, consistent: false, possible tampering: "),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(std::string(run) + " detected possible tampering of db defaultdb"),
              std::string::npos)
        << out;
  }
  EXPECT_NE(out.find("tx 4"), std::string::npos) << out;
  EXPECT_NE(out.find("previous state: "), std::string::npos) << out;
  EXPECT_NE(out.find(" at tx 3, current state: "), std::string::npos) << out;
  // One notification per run that found it, each with both states.
  const auto bodies = hook.bodies();
  ASSERT_EQ(bodies.size(), 2u) << out;
  for (const std::string& body : bodies) {
    EXPECT_NE(body.find("\"username\":\"hookuser\""), std::string::npos) << body;
    EXPECT_NE(body.find("\"db\":\"defaultdb\""), std::string::npos) << body;
    EXPECT_NE(body.find("\"tampered\":true"), std::string::npos) << body;
    EXPECT_NE(body.find("\"reason\":\"tampering detected: "), std::string::npos) << body;
    EXPECT_NE(body.find("\"server_id\":\"" + std::string(kProxyUuid) + "\""), std::string::npos)
        << body;
    EXPECT_NE(body.find("\"server_address\":\"127.0.0.1:" + std::to_string(proxy_->port()) + "\""),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("\"previous_state\":{\"tx\":3,"), std::string::npos) << body;
    EXPECT_NE(body.find("\"current_state\":{\"tx\":5,"), std::string::npos) << body;
  }
}

TEST(AuditHelpersTest, DurationsPasswordsAndBase64) {
  EXPECT_EQ(*ParseDuration("90s"), std::chrono::milliseconds(90000));
  EXPECT_EQ(*ParseDuration("1h30m"), std::chrono::milliseconds(5400000));
  EXPECT_EQ(*ParseDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseDuration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*ParseDuration("0"), std::chrono::milliseconds(0));
  for (const char* bad : {"", "5", "5x", "-1s", "s", "1..2s"}) {
    EXPECT_TRUE(ParseDuration(bad).status().IsInvalidArgument()) << bad;
  }
  EXPECT_EQ(*DecodePassword("plain"), "plain");
  EXPECT_EQ(*DecodePassword("enc:aW1tdWRi"), "immudb");
  EXPECT_FALSE(DecodePassword("enc:!!!").ok());
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("immudb"), "aW1tdWRi");
  EXPECT_FALSE(Base64Decode("a=bc").ok());
  EXPECT_FALSE(Base64Decode("abc").ok());
}

}  // namespace
}  // namespace immudb::client
