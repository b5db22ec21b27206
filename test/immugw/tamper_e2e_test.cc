// The tampering scenario end to end, across the tools: data is written and
// verified by immuclient, an auditor and immugw record their trusted states,
// the server is stopped, one byte of the tx log is changed (a stored value,
// or the header of the transaction that holds it), the server restarts.
// Then `immuclient safeget`, the auditor and immugw's verified route all
// report tampering, `immuclient get` never prints a changed value as good,
// and `immuadmin verify` names the transaction.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>

#include "client/auditor.h"
#include "client/tampering.h"
#include "cmd/immugw/gateway.h"
#include "gateway_harness.h"
#include "lying_proxy.h"
#include "server_process.h"
#include "tamper_files.h"

namespace immudb {
namespace {

using client::Base64Encode;
using client::testing::BinDir;
using client::testing::LyingProxy;
using client::testing::ServerProcess;

constexpr char kUuid[] = "e2eproxy000000000000";
constexpr char kValue[] = "value-to-be-edited";

// Runs a shell command; returns its exit code and its stdout+stderr.
int RunShell(const std::string& cmd, std::string* out) {
  int code = -1;
  *out = client::testing::RunShell(cmd + " 2>&1", &code);
  return code;
}

enum class Damage { kValue, kHeader };

class TamperE2ETest : public ::testing::TestWithParam<Damage> {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/tamper_e2e_" + std::to_string(getpid()) + "_" +
           std::to_string(static_cast<int>(GetParam()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/cli");
    server_ = std::make_unique<ServerProcess>(dir_ + "/a");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    // Every tool reaches the server through an honest proxy, so its address
    // and identity stay the same when the server restarts on another port.
    proxy_ = std::make_unique<LyingProxy>(server_->target(), kUuid);
  }
  void TearDown() override {
    http_.reset();
    gw_.reset();
    auditor_.reset();
    proxy_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // immuclient against the proxy, logged in, with its state in dir_/cli.
  int Client(const std::string& args, std::string* out) {
    return RunShell(BinDir() + "/immuclient -a 127.0.0.1 -p " + std::to_string(proxy_->port()) +
                        " --username immudb --password immudb --dir " + dir_ + "/cli " + args,
                    out);
  }

  void StartAuditor() {
    client::AuditorOptions o;
    o.client.port = proxy_->port();
    o.state_dir = dir_ + "/auditor";
    o.monitoring_port = -1;
    o.interval = std::chrono::milliseconds(50);
    o.log = [](const std::string&) {};
    auto a = client::Auditor::Create(std::move(o));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auditor_ = std::move(a).value();
  }

  const client::DbAudit* Audit(client::AuditReport* report) {
    *report = auditor_->RunOnce();
    for (const client::DbAudit& d : report->dbs) {
      if (d.db == "defaultdb") return &d;
    }
    return nullptr;
  }

  void StartGateway() {
    gateway::GatewayOptions o;
    o.immudb_port = proxy_->port();
    o.dir = dir_ + "/gw";
    o.timeout = std::chrono::milliseconds(10000);
    std::string body;
    auto login = gateway::testing::StartGatewayAndLogin(std::move(o), &gw_, &http_, &token_, &body);
    ASSERT_TRUE(login.ok()) << login.status().ToString();
    ASSERT_EQ(*login, 200) << body;
    ASSERT_FALSE(token_.empty()) << body;
  }

  httplib::Result VerifiedGet(const std::string& key) {
    return http_->Post("/db/defaultdb/verified/get", {{"Authorization", "Bearer " + token_}},
                       R"({"keyRequest":{"key":")" + Base64Encode(key) + "\"}}",
                       "application/json");
  }

  // Changes one byte of the tx log: the first byte of the stored value, or
  // the low byte of the timestamp in the header of the tx record right after
  // it (record prefix 8 bytes, id 8, ts 8: docs/format/txlog.md).
  void Damage(Damage what) {
    client::testing::StoredBytes at;
    std::string error;
    ASSERT_TRUE(client::testing::FindStoredValue(dir_ + "/a/data", kValue, &at, &error)) << error;
    const size_t off =
        what == Damage::kValue ? at.offset : at.offset + sizeof(kValue) - 1 + 8 + 8 + 7;
    ASSERT_TRUE(client::testing::FlipByte(at.file, off));
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<LyingProxy> proxy_;
  std::unique_ptr<client::Auditor> auditor_;
  std::unique_ptr<gateway::Gateway> gw_;
  std::unique_ptr<httplib::Client> http_;
  std::string token_;
};

TEST_P(TamperE2ETest, EveryToolReportsTheChangedByte) {
  std::string out;
  // Tx 1, verified: every tool trusts the state at tx 1.
  ASSERT_EQ(Client("safeset k1 v1", &out), 0) << out;
  ASSERT_NO_FATAL_FAILURE(StartAuditor());
  client::AuditReport report;
  const client::DbAudit* d = Audit(&report);
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->result, client::AuditResult::kOk) << d->message;
  ASSERT_NO_FATAL_FAILURE(StartGateway());
  auto ok = VerifiedGet("k1");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  ASSERT_NE(ok->body.find("\"verified\":true"), std::string::npos) << ok->body;

  // Tx 2 holds the value that gets damaged; tx 3 follows it.
  ASSERT_EQ(Client(std::string("safeset target ") + kValue, &out), 0) << out;
  ASSERT_EQ(Client("safeset k3 v3", &out), 0) << out;
  server_->Stop();
  ASSERT_NO_FATAL_FAILURE(Damage(GetParam()));
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  proxy_->SetUpstream(server_->target());

  // immuclient safeget: tampering, non-zero exit.
  EXPECT_NE(Client("safeget target", &out), 0) << out;
  EXPECT_NE(out.find("tampering detected"), std::string::npos) << out;
  // A plain get never prints a changed value as good.
  const int get = Client("get target", &out);
  EXPECT_EQ(out.find("Value-to-be-edited"), std::string::npos) << out;
  EXPECT_EQ(out.find("walue-to-be-edited"), std::string::npos) << out;
  if (GetParam() == Damage::kValue) {
    EXPECT_NE(get, 0) << out;
    EXPECT_EQ(out.find(kValue), std::string::npos) << out;
  }
  // The auditor: tampering in tx 2 or later, its trusted state stays at 1.
  d = Audit(&report);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->result, client::AuditResult::kTampered) << d->message;
  EXPECT_TRUE(report.tampered());
  d = Audit(&report);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->result, client::AuditResult::kTampered) << d->message;
  ASSERT_TRUE(d->previous.has_value());
  EXPECT_EQ(d->previous->tx_id, 1u);
  // immugw's verified route: 409 with the tampering error.
  auto res = VerifiedGet("target");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409) << res->body;
  EXPECT_NE(res->body.find("tampering detected"), std::string::npos) << res->body;
  EXPECT_EQ(res->body.find("\"verified\":true"), std::string::npos) << res->body;

  // immuadmin verify names tx 2 (offline, with the server stopped).
  server_->Stop();
  EXPECT_EQ(RunShell(BinDir() + "/immuadmin verify " + dir_ + "/a/data/defaultdb", &out), 1) << out;
  EXPECT_NE(out.find("tx 2: "), std::string::npos) << out;
  EXPECT_NE(out.find("verification FAILED after 1 verified transactions"), std::string::npos)
      << out;
}

INSTANTIATE_TEST_SUITE_P(Damages, TamperE2ETest, ::testing::Values(Damage::kValue, Damage::kHeader),
                         [](const auto& info) {
                           return info.param == Damage::kValue ? "StoredValue" : "TxHeader";
                         });

}  // namespace
}  // namespace immudb
