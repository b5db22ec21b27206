// Client calls beyond set/get against a real build/bin/immudb: delete, sorted
// sets, verified references and sorted-set members, the consistency check;
// and a lying server (LyingProxy) altering their replies is tampering.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "client/client.h"
#include "client/convert.h"
#include "client/tampering.h"
#include "immudb/database.h"
#include "lying_proxy.h"
#include "server_process.h"
#include "testutil/test_util.h"

namespace immudb::client {
namespace {

using testing::LyingProxy;
using testing::ServerProcess;

class ClientCallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("client_calls_test");
    std::filesystem::create_directories(dir_ + "/state");
    server_ = std::make_unique<ServerProcess>(dir_ + "/server");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    proxy_ = std::make_unique<LyingProxy>(server_->target(), "proxyuuid00000000000");
  }
  void TearDown() override {
    proxy_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A logged-in client of the server itself, or of the proxy.
  std::unique_ptr<Client> Connect(bool via_proxy = false) {
    Options o;
    o.port = via_proxy ? proxy_->port() : server_->port();
    o.state_dir = dir_ + "/state";
    o.timeout = std::chrono::milliseconds(10000);
    auto c = Client::Open(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    Status st = (*c)->Login("immudb", "immudb");
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::move(c).value();
  }

  static uint64_t TrustedTx(Client* c) {
    auto s = c->TrustedState();
    return s.ok() && s->has_value() ? (*s)->tx_id : 0;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<LyingProxy> proxy_;
};

TEST_F(ClientCallsTest, DeleteHidesTheKey) {
  auto c = Connect();
  ASSERT_TRUE(c->Set("k", "v").ok());
  auto h = c->Delete("k");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->id, 2u);
  ReadOptions since;
  since.since_tx = 2;
  auto g = c->Get("k", since);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("not found"), std::string::npos) << g.status().ToString();
  EXPECT_FALSE(c->Delete("never-set").ok());
}

TEST_F(ClientCallsTest, SortedSetsScanByScore) {
  auto c = Connect();
  ASSERT_TRUE(c->Set("alice", "a").ok());
  ASSERT_TRUE(c->Set("bob", "b").ok());
  ASSERT_TRUE(c->ZAdd("team", 20.5, "alice").ok());
  ASSERT_TRUE(c->ZAdd("team", 3, "bob").ok());
  auto z = c->ZScan("team");
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  ASSERT_EQ(z->size(), 2u);
  EXPECT_EQ((*z)[0].key, "bob");
  EXPECT_EQ((*z)[0].score, 3);
  EXPECT_EQ((*z)[0].entry.value, "b");
  EXPECT_EQ((*z)[1].key, "alice");
  EXPECT_EQ((*z)[1].set, "team");
  ZScanOptions desc;
  desc.desc = true;
  desc.limit = 1;
  auto top = c->ZScan("team", desc);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].key, "alice");
  ZScanOptions range;
  range.min_score = 10;
  auto high = c->ZScan("team", range);
  ASSERT_TRUE(high.ok());
  ASSERT_EQ(high->size(), 1u);
  EXPECT_EQ((*high)[0].key, "alice");
  auto none = c->ZScan("nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(c->ZScan("").ok());
}

TEST_F(ClientCallsTest, VerifiedReferenceAndZAddAdvanceTheTrustedState) {
  auto c = Connect(/*via_proxy=*/true);
  ASSERT_TRUE(c->VerifiedSet("k1", "v1").ok());
  auto r = c->VerifiedSetReference("ref1", "k1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, 2u);
  EXPECT_EQ(TrustedTx(c.get()), 2u);
  auto bound = c->VerifiedSetReference("ref2", "k1", 1);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  auto z = c->VerifiedZAdd("set", 2.5, "k1");
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(z->id, 4u);
  auto zb = c->VerifiedZAdd("set", 7, "k1", 1);
  ASSERT_TRUE(zb.ok()) << zb.status().ToString();
  EXPECT_EQ(TrustedTx(c.get()), 5u);

  auto e = c->VerifiedGet("ref1");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->value, "v1");
  auto members = Connect()->ZScan("set");  // The proxy does not forward ZScan.
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].score, 2.5);
  EXPECT_EQ((*members)[1].at_tx, 1u);
}

// An altered reply to a verified reference or sorted-set write is tampering
// and leaves the trusted state where it was.
TEST_F(ClientCallsTest, AlteredWriteRepliesAreTampering) {
  auto c = Connect(/*via_proxy=*/true);
  ASSERT_TRUE(c->VerifiedSet("k1", "v1").ok());
  ASSERT_TRUE(c->VerifiedSet("k2", "v2").ok());
  ASSERT_EQ(TrustedTx(c.get()), 2u);
  using Msg = google::protobuf::Message;
  auto flip = [](std::string* s) { (*s)[s->size() / 2] ^= 0x01; };
  struct Case {
    const char* name;
    std::function<void(schema::VerifiableTx*)> tamper;
  };
  std::vector<Case> cases = {
      {"entry key",
       [&](schema::VerifiableTx* v) { flip(v->mutable_tx()->mutable_entries(0)->mutable_key()); }},
      {"entry value hash",
       [&](schema::VerifiableTx* v) {
         flip(v->mutable_tx()->mutable_entries(0)->mutable_hvalue());
       }},
      {"entry metadata",
       [&](schema::VerifiableTx* v) {
         v->mutable_tx()->mutable_entries(0)->mutable_metadata()->set_deleted(true);
       }},
      {"extra entry",
       [&](schema::VerifiableTx* v) {
         *v->mutable_tx()->add_entries() = v->tx().entries(0);
         v->mutable_tx()->mutable_header()->set_nentries(2);
       }},
      {"target eh",
       [&](schema::VerifiableTx* v) {
         flip(v->mutable_dualproof()->mutable_targettxheader()->mutable_eh());
       }},
      {"linear proof",
       [&](schema::VerifiableTx* v) {
         flip(v->mutable_dualproof()->mutable_linearproof()->mutable_terms(0));
       }},
      {"header timestamp",
       [&](schema::VerifiableTx* v) { v->mutable_tx()->mutable_header()->set_ts(1); }},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    proxy_->SetTamper([&](const std::string& rpc, Msg* m) {
      if (rpc == "VerifiableSetReference" || rpc == "VerifiableZAdd") {
        tc.tamper(static_cast<schema::VerifiableTx*>(m));
      }
    });
    Status ref = c->VerifiedSetReference("ref", "k1").status();
    EXPECT_TRUE(IsTampering(ref)) << ref.ToString();
    Status z = c->VerifiedZAdd("set", 1, "k1").status();
    EXPECT_TRUE(IsTampering(z)) << z.ToString();
    EXPECT_EQ(TrustedTx(c.get()), 2u);
  }
  // A reply for another reference target or another score is tampering too.
  proxy_->SetTamper([](const std::string& rpc, Msg* m) {
    if (rpc != "VerifiableSetReference") return;
    auto* e = static_cast<schema::VerifiableTx*>(m)->mutable_tx()->mutable_entries(0);
    e->set_hvalue(HashBytes(Sha256Of(EncodeReferenceValue("k2", 0))));
  });
  EXPECT_TRUE(IsTampering(c->VerifiedSetReference("ref", "k1").status()));
  proxy_->SetTamper(nullptr);
  auto ok = c->VerifiedZAdd("set", 1, "k1");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_GT(TrustedTx(c.get()), 2u);
}

TEST_F(ClientCallsTest, CheckConsistencyAcceptsOnlyTheRealChain) {
  auto c = Connect(/*via_proxy=*/true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c->VerifiedSet("k" + std::to_string(i), "v").ok());
  auto old = c->TrustedState();
  ASSERT_TRUE(old.ok() && old->has_value());
  const State at3 = **old;
  for (int i = 3; i < 6; ++i) ASSERT_TRUE(c->Set("k" + std::to_string(i), "v").ok());

  auto cur = c->CheckConsistency(at3.tx_id, at3.tx_hash);
  ASSERT_TRUE(cur.ok()) << cur.status().ToString();
  EXPECT_EQ(cur->tx_id, 6u);
  auto same = c->CheckConsistency(6, cur->tx_hash);
  ASSERT_TRUE(same.ok()) << same.status().ToString();

  Hash wrong = at3.tx_hash;
  wrong[0] ^= 1;
  EXPECT_TRUE(IsTampering(c->CheckConsistency(3, wrong).status()));
  EXPECT_TRUE(IsTampering(c->CheckConsistency(2, at3.tx_hash).status()));
  EXPECT_EQ(c->CheckConsistency(7, at3.tx_hash).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(c->CheckConsistency(0, at3.tx_hash).status().code(), StatusCode::kInvalidArgument);
  // A server lying about the proof is caught.
  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* m) {
    if (rpc != "VerifiableTxById") return;
    auto* dp = static_cast<schema::VerifiableTx*>(m)->mutable_dualproof();
    (*dp->mutable_targettxheader()->mutable_prevalh())[0] ^= 1;
  });
  EXPECT_TRUE(IsTampering(c->CheckConsistency(at3.tx_id, at3.tx_hash).status()));
  // The check neither used nor moved the trusted state.
  EXPECT_EQ(TrustedTx(c.get()), 3u);
}

TEST_F(ClientCallsTest, ServerInfoAndDatabaseHealth) {
  auto c = Connect();
  auto v = c->ServerVersion();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->empty());
  ASSERT_TRUE(c->Set("k", "v").ok());
  auto h = c->DatabaseHealth();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_GE(h->lastrequestcompletedat(), 0);
}

}  // namespace
}  // namespace immudb::client
