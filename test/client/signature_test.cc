// State signatures: the payload matches proofs.md §8 S1, and a client with a
// configured public key accepts only states the server signed with that key.
#include "client/signature.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "client/client.h"
#include "client/tampering.h"
#include "lying_proxy.h"
#include "server_process.h"
#include "test_certs.h"
#include "testutil/test_util.h"

namespace immudb::client {
namespace {

TEST(ClientSigningPayloadTest, MatchesSpecVectorS1) {
  State s;
  s.db = "defaultdb";
  s.tx_id = 8;
  ASSERT_TRUE(
      HashFromHex("7bf8ebe099b5ba8bf93e4089ec803ac79a02f68ce6a778552051d343eab9f666", &s.tx_hash));
  EXPECT_EQ(ToHex(StateSigningPayload(s)),
            "0000000964656661756c74646200000000000000087bf8ebe099b5ba8bf93e4089ec803ac79a02f68ce6"
            "a778552051d343eab9f666");
}

TEST(ClientSignatureVerifierTest, RejectsNonP256Keys) {
  EXPECT_TRUE(SignatureVerifier::FromPem("not a key").status().IsInvalidArgument());
  EXPECT_TRUE(SignatureVerifier::FromFile("/nonexistent/key.pem").status().IsIOError());
}

class ClientSignedServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("client_sig_test");
    ASSERT_TRUE(testing::WriteSigningKeyPair(dir_ + "/server.pem", dir_ + "/server.pub"));
    ASSERT_TRUE(testing::WriteSigningKeyPair(dir_ + "/other.pem", dir_ + "/other.pub"));
    server_ = std::make_unique<testing::ServerProcess>(
        dir_ + "/server", std::vector<std::string>{"--signingKey", dir_ + "/server.pem"});
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    proxy_ = std::make_unique<testing::LyingProxy>(server_->target(), "signeduuid0000000000");
  }
  void TearDown() override {
    proxy_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Client> Connect(const std::string& pub_key, const std::string& state_dir) {
    std::filesystem::create_directories(dir_ + "/" + state_dir);
    Options o;
    o.port = proxy_->port();
    o.state_dir = dir_ + "/" + state_dir;
    o.server_signing_pub_key = dir_ + "/" + pub_key;
    auto c = Client::Open(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE((*c)->Login("immudb", "immudb").ok());
    return std::move(c).value();
  }

  std::string dir_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<testing::LyingProxy> proxy_;
};

TEST_F(ClientSignedServerTest, RightKeyVerifiesWrongKeyOrMissingSignatureIsTampering) {
  auto good = Connect("server.pub", "good");
  ASSERT_TRUE(good->VerifiedSet("k1", "v1").ok());
  ASSERT_TRUE(good->VerifiedGet("k1").ok());
  ASSERT_TRUE(good->CurrentState().ok());

  auto wrong = Connect("other.pub", "wrong");
  EXPECT_TRUE(IsTampering(wrong->CurrentState().status()));
  EXPECT_TRUE(IsTampering(wrong->VerifiedGet("k1").status()));

  proxy_->SetTamper([](const std::string& rpc, google::protobuf::Message* m) {
    if (rpc == "VerifiableSet") static_cast<schema::VerifiableTx*>(m)->clear_signature();
  });
  Status st = good->VerifiedSet("k2", "v2").status();
  EXPECT_TRUE(IsTampering(st)) << st.ToString();
  auto trusted = good->TrustedState();
  ASSERT_TRUE(trusted.ok() && trusted->has_value());
  EXPECT_EQ((*trusted)->tx_id, 1u);
}

}  // namespace
}  // namespace immudb::client
