// Client against a real build/bin/immudb: honest replies verify, and a lying
// server (LyingProxy in front of real servers) is reported as tampering.
#include "client/client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "client/tampering.h"
#include "lying_proxy.h"
#include "server_process.h"
#include "testutil/test_util.h"

namespace immudb::client {
namespace {

using testing::LyingProxy;
using testing::ServerProcess;

constexpr char kProxyUuid[] = "proxyuuid00000000000";

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("client_test");
    std::filesystem::create_directories(dir_ + "/state");
    a_ = std::make_unique<ServerProcess>(dir_ + "/a");
    std::string error;
    ASSERT_TRUE(a_->Start(&error)) << error;
    proxy_ = std::make_unique<LyingProxy>(a_->target(), kProxyUuid);
  }
  void TearDown() override {
    proxy_.reset();
    a_.reset();
    b_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A logged-in client of `port` (the proxy when 0).
  std::unique_ptr<Client> Connect(int port = 0) {
    Options o;
    o.port = port != 0 ? port : proxy_->port();
    o.state_dir = dir_ + "/state";
    auto c = Client::Open(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    Status st = (*c)->Login("immudb", "immudb");
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::move(c).value();
  }

  // Starts a second server and writes `n` plain sets into it.
  void StartB(int n) {
    b_ = std::make_unique<ServerProcess>(dir_ + "/b");
    std::string error;
    ASSERT_TRUE(b_->Start(&error)) << error;
    auto direct = Connect(b_->port());
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(direct->Set("k" + std::to_string(i), "other" + std::to_string(i)).ok());
    }
  }

  static void ExpectTampering(const Status& st) { EXPECT_TRUE(IsTampering(st)) << st.ToString(); }

  uint64_t TrustedTx(Client* c) {
    auto s = c->TrustedState();
    EXPECT_TRUE(s.ok() && s->has_value()) << s.status().ToString();
    return s.ok() && s->has_value() ? (*s)->tx_id : 0;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> a_, b_;
  std::unique_ptr<LyingProxy> proxy_;
};

TEST_F(ClientTest, HonestRepliesVerify) {
  auto c = Connect();
  auto h1 = c->VerifiedSet("k1", "v1");
  ASSERT_TRUE(h1.ok()) << h1.status().ToString();
  EXPECT_EQ(h1->id, 1u);
  EXPECT_EQ(c->server_uuid(), kProxyUuid);
  ASSERT_TRUE(c->VerifiedSet("k2", "v2").ok());
  ASSERT_TRUE(c->Set("k3", "v3").ok());
  ASSERT_TRUE(c->SetReference("ref1", "k1").ok());

  // Older tx than the trusted state: proof runs from the entry's tx.
  auto e = c->VerifiedGet("k1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "v1");
  EXPECT_EQ(e->tx, 1u);
  EXPECT_EQ(TrustedTx(c.get()), 2u);
  // Newer tx: the state advances.
  auto r = c->VerifiedGet("ref1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->value, "v1");
  ASSERT_TRUE(r->referenced_by.has_value());
  EXPECT_EQ(r->referenced_by->key, "ref1");
  EXPECT_EQ(TrustedTx(c.get()), 4u);

  auto tx = c->VerifiedTxById(3);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(tx->header.id, 3u);
  EXPECT_EQ(tx->entries.size(), 1u);

  // A new client on the same state file continues from tx 4.
  auto c2 = Connect();
  EXPECT_EQ(TrustedTx(c2.get()), 4u);
  ASSERT_TRUE(c2->VerifiedGet("k3").ok());
  auto cs = c2->CurrentState();
  ASSERT_TRUE(cs.ok()) << cs.status().ToString();
  EXPECT_EQ(cs->tx_id, 4u);
}

TEST_F(ClientTest, PlainCalls) {
  auto c = Connect(a_->port());
  ASSERT_TRUE(c->Set("a1", "x").ok());
  ASSERT_TRUE(c->Set("a1", "y").ok());
  ASSERT_TRUE(c->Set("b1", "z").ok());
  auto hist = c->History("a1");
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_EQ((*hist)[1].value, "y");
  EXPECT_EQ((*hist)[1].revision, 2u);
  auto scan = c->Scan("a");
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 1u);
  EXPECT_EQ((*scan)[0].value, "y");
  auto count = c->Count("");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2u);
  auto tx = c->TxById(2);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->header.id, 2u);
  ReadOptions rev;
  rev.at_revision = 1;
  auto old = c->Get("a1", rev);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->value, "x");
  EXPECT_EQ(c->Get("absent").status().message(), "key not found");
  EXPECT_TRUE(c->Health().ok());
  EXPECT_EQ(c->server_uuid().size(), 20u);
  ASSERT_TRUE(c->Logout().ok());
  EXPECT_FALSE(c->Set("a1", "w").ok());
}

// Every reply that is altered after the fact must fail verification and leave
// the trusted state where it was.
TEST_F(ClientTest, AlteredProofsAreTampering) {
  auto c = Connect();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c->VerifiedSet("k" + std::to_string(i), "v").ok());
  ASSERT_TRUE(c->Set("k9", "late").ok());
  ASSERT_EQ(TrustedTx(c.get()), 4u);

  using Msg = google::protobuf::Message;
  auto flip = [](std::string* s) { (*s)[s->size() / 2] ^= 0x01; };
  struct Case {
    const char* name;
    std::function<void(const std::string&, Msg*)> tamper;
    std::function<Status(Client*)> call;
  };
  auto get = [](const char* key) {
    return [key](Client* cl) { return cl->VerifiedGet(key).status(); };
  };
  std::vector<Case> cases = {
      {"dual proof term",
       [&](const std::string& rpc, Msg* m) {
         if (rpc != "VerifiableGet") return;
         auto* ve = static_cast<schema::VerifiableEntry*>(m);
         auto* dp = ve->mutable_verifiabletx()->mutable_dualproof();
         flip(dp->mutable_linearproof()->mutable_terms(0));
       },
       get("k9")},
      {"inclusion proof term",
       [&](const std::string& rpc, Msg* m) {
         if (rpc != "VerifiableGet") return;
         auto* ve = static_cast<schema::VerifiableEntry*>(m);
         if (ve->inclusionproof().terms_size() > 0) {
           flip(ve->mutable_inclusionproof()->mutable_terms(0));
         } else {
           ve->mutable_inclusionproof()->add_terms(std::string(32, 'x'));
         }
       },
       get("k1")},
      {"value",
       [&](const std::string& rpc, Msg* m) {
         if (rpc != "VerifiableGet") return;
         flip(static_cast<schema::VerifiableEntry*>(m)->mutable_entry()->mutable_value());
       },
       get("k2")},
      {"target eh",
       [&](const std::string& rpc, Msg* m) {
         if (rpc != "VerifiableGet") return;
         auto* ve = static_cast<schema::VerifiableEntry*>(m);
         flip(ve->mutable_verifiabletx()
                  ->mutable_dualproof()
                  ->mutable_targettxheader()
                  ->mutable_eh());
       },
       get("k9")},
      {"set entry hash",
       [&](const std::string& rpc, Msg* m) {
         if (rpc != "VerifiableSet") return;
         auto* vtx = static_cast<schema::VerifiableTx*>(m);
         flip(vtx->mutable_tx()->mutable_entries(0)->mutable_hvalue());
       },
       [](Client* cl) { return cl->VerifiedSet("s1", "v").status(); }},
      {"set consistency proof",
       [&](const std::string& rpc, Msg* m) {
         if (rpc != "VerifiableSet") return;
         auto* dp = static_cast<schema::VerifiableTx*>(m)->mutable_dualproof();
         if (dp->consistencyproof_size() > 0)
           flip(dp->mutable_consistencyproof(0));
         else
           flip(dp->mutable_targetbltxalh());
       },
       [](Client* cl) { return cl->VerifiedSet("s2", "v").status(); }},
      {"tx by id header",
       [&](const std::string& rpc, Msg* m) {
         if (rpc != "VerifiableTxById") return;
         auto* vtx = static_cast<schema::VerifiableTx*>(m);
         vtx->mutable_tx()->mutable_header()->set_ts(12345);
       },
       [](Client* cl) { return cl->VerifiedTxById(2).status(); }},
      {"tx by id source header",
       [&](const std::string& rpc, Msg* m) {
         if (rpc != "VerifiableTxById") return;
         auto* vtx = static_cast<schema::VerifiableTx*>(m);
         flip(vtx->mutable_dualproof()->mutable_sourcetxheader()->mutable_prevalh());
         flip(vtx->mutable_tx()->mutable_header()->mutable_prevalh());
       },
       [](Client* cl) { return cl->VerifiedTxById(2).status(); }},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    proxy_->SetTamper(tc.tamper);
    ExpectTampering(tc.call(c.get()));
    EXPECT_EQ(TrustedTx(c.get()), 4u);
  }
  proxy_->SetTamper(nullptr);
  ASSERT_TRUE(c->VerifiedGet("k9").ok());
  EXPECT_EQ(TrustedTx(c.get()), 5u);
}

// Server B has a different history of the same length and more: after the
// client trusted A, B's proofs cannot link to A's state.
TEST_F(ClientTest, ForkedHistoryIsTampering) {
  auto c = Connect();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c->VerifiedSet("k" + std::to_string(i), "v").ok());
  StartB(6);
  proxy_->SetUpstream(b_->target());
  ExpectTampering(c->VerifiedGet("k1").status());
  ExpectTampering(c->VerifiedGet("k5").status());
  ExpectTampering(c->VerifiedSet("k7", "v").status());
  ExpectTampering(c->VerifiedTxById(6).status());
  EXPECT_EQ(TrustedTx(c.get()), 3u);
  // A fresh client on the same state file does not start over either.
  auto c2 = Connect();
  ExpectTampering(c2->VerifiedGet("k1").status());
}

TEST_F(ClientTest, ChangedServerIdentityIsTampering) {
  auto c = Connect();
  ASSERT_TRUE(c->VerifiedSet("k1", "v1").ok());
  proxy_->SetUuid("anotheruuid000000000");
  ExpectTampering(c->VerifiedGet("k1").status());
  auto c2 = Connect();
  ExpectTampering(c2->VerifiedGet("k1").status());
  ExpectTampering(c2->CurrentState().status());
  ExpectTampering(c2->TrustedState().status());
}

TEST_F(ClientTest, StateGoingBackwardsIsTampering) {
  auto c = Connect();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->VerifiedSet("k" + std::to_string(i), "v").ok());
  // Same server, CurrentState claims an older tx.
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* m) {
    if (rpc == "CurrentState") static_cast<schema::ImmutableState*>(m)->set_txid(2);
  });
  ExpectTampering(c->CurrentState().status());
  proxy_->SetTamper(nullptr);
  // A server with a shorter history behind the same identity.
  StartB(2);
  proxy_->SetUpstream(b_->target());
  ExpectTampering(c->CurrentState().status());
  ExpectTampering(c->VerifiedGet("k1").status());
  EXPECT_EQ(TrustedTx(c.get()), 5u);
}

}  // namespace
}  // namespace immudb::client
