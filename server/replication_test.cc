// exportTx / streamExportTx / replicateTx over gRPC: a replica database fed
// with the exported transactions of another holds the same Alh chain; writes
// to a replica, non-replicas as targets, garbage, transactions that do not
// chain and non-admin callers are refused, with nothing written.
#include <gtest/gtest.h>

#include <thread>

#include "server/stream_framing.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

class ReplicationTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    admin_ = Login();
    schema::CreateDatabaseRequest req;
    req.set_name("replicadb");
    req.mutable_settings()->mutable_replicationsettings()->mutable_replica()->set_value(true);
    schema::CreateDatabaseResponse resp;
    grpc::Status st = stub_->CreateDatabaseV2(Ctx(admin_).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    replica_ = UseDatabase(admin_, "replicadb");
  }

  schema::ImmutableState State(const std::string& token) {
    schema::ImmutableState s;
    grpc::Status st = stub_->CurrentState(Ctx(token).get(), google::protobuf::Empty(), &s);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return s;
  }

  // exportTx of `tx`: the one framed message, and the first chunk's metadata.
  grpc::Status Export(const std::string& token, uint64_t tx, std::string* bytes,
                      std::string* committed = nullptr) {
    schema::ExportTxRequest req;
    req.set_tx(tx);
    auto ctx = Ctx(token);
    auto reader = stub_->exportTx(ctx.get(), req);
    bool first = true;
    StreamReader in([&](schema::Chunk* c) {
      if (!reader->Read(c)) return false;
      if (first && committed != nullptr) {
        auto it = c->metadata().find("committed-txid-bin");
        if (it != c->metadata().end()) *committed = it->second;
      }
      first = false;
      return true;
    });
    auto msg = in.Next();
    grpc::Status st = reader->Finish();
    if (!st.ok()) return st;
    EXPECT_TRUE(msg.ok() && msg->has_value());
    if (msg.ok() && msg->has_value()) *bytes = **msg;
    return st;
  }

  grpc::Status Replicate(const std::string& token, const std::string& bytes, schema::TxHeader* hdr,
                         bool wait_for_indexing = true) {
    auto ctx = Ctx(token);
    ctx->AddMetadata("wait-for-indexing", wait_for_indexing ? "true" : "false");
    auto writer = stub_->replicateTx(ctx.get(), hdr);
    StreamWriter out([&](const schema::Chunk& c) { return writer->Write(c); });
    out.Send(bytes);
    writer->WritesDone();
    return writer->Finish();
  }

  std::string admin_, replica_;
};

TEST_F(ReplicationTest, ReplicaHoldsTheSameChainAndServesTheData) {
  for (int i = 0; i < 20; i++) {
    ASSERT_TRUE(SetKey(admin_, "k" + std::to_string(i), "v" + std::to_string(i)).ok());
  }
  {
    // A reference, a sorted-set member and a delete: other entry shapes.
    grpc::ClientContext c1, c2, c3;
    schema::ReferenceRequest ref;
    ref.set_key("ref");
    ref.set_referencedkey("k1");
    schema::TxHeader h;
    ASSERT_TRUE(stub_->SetReference(Ctx(admin_).get(), ref, &h).ok());
    schema::ZAddRequest z;
    z.set_set("set");
    z.set_key("k2");
    z.set_score(1.5);
    ASSERT_TRUE(stub_->ZAdd(Ctx(admin_).get(), z, &h).ok());
    schema::DeleteKeysRequest del;
    del.add_keys("k3");
    ASSERT_TRUE(stub_->Delete(Ctx(admin_).get(), del, &h).ok());
  }
  const schema::ImmutableState src = State(admin_);
  for (uint64_t tx = 1; tx <= src.txid(); tx++) {
    std::string bytes, committed;
    grpc::Status st = Export(admin_, tx, &bytes, &committed);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(committed, EncodeU64(src.txid()));
    schema::TxHeader hdr;
    st = Replicate(replica_, bytes, &hdr);
    ASSERT_TRUE(st.ok()) << "tx " << tx << ": " << st.error_message();
    EXPECT_EQ(hdr.id(), tx);
  }
  const schema::ImmutableState dst = State(replica_);
  EXPECT_EQ(dst.txid(), src.txid());
  EXPECT_EQ(dst.txhash(), src.txhash());
  // The replica serves what it got, through its own index.
  schema::KeyRequest get;
  get.set_key("k7");
  schema::Entry e;
  ASSERT_TRUE(stub_->Get(Ctx(replica_).get(), get, &e).ok());
  EXPECT_EQ(e.value(), "v7");
  get.set_key("ref");
  ASSERT_TRUE(stub_->Get(Ctx(replica_).get(), get, &e).ok());
  EXPECT_EQ(e.value(), "v1");
  get.set_key("k3");
  EXPECT_FALSE(stub_->Get(Ctx(replica_).get(), get, &e).ok());

  // After a restart the database is still a replica with the same chain.
  server_.reset();
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string again = UseDatabase(Login(), "replicadb");
  EXPECT_EQ(State(again).txhash(), src.txhash());
  EXPECT_EQ(SetKey(again, "x", "y").error_message(),
            "database is read-only because it's a replica");
}

TEST_F(ReplicationTest, StreamExportTxAnswersEachRequest) {
  for (int i = 0; i < 3; i++) ASSERT_TRUE(SetKey(admin_, "s" + std::to_string(i), "v").ok());
  auto ctx = Ctx(admin_);
  auto stream = stub_->streamExportTx(ctx.get());
  StreamReader in([&](schema::Chunk* c) { return stream->Read(c); });
  for (uint64_t tx = 1; tx <= 3; tx++) {
    schema::ExportTxRequest req;
    req.set_tx(tx);
    ASSERT_TRUE(stream->Write(req));
    auto msg = in.Next();
    ASSERT_TRUE(msg.ok() && msg->has_value());
    std::string unary;
    ASSERT_TRUE(Export(admin_, tx, &unary).ok());
    EXPECT_EQ(**msg, unary);
    schema::TxHeader hdr;
    ASSERT_TRUE(Replicate(replica_, **msg, &hdr, false).ok());
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(State(replica_).txhash(), State(admin_).txhash());
}

TEST_F(ReplicationTest, BadReplicationsAreRefusedAndWriteNothing) {
  ASSERT_TRUE(SetKey(admin_, "a", "1").ok());
  ASSERT_TRUE(SetKey(admin_, "b", "2").ok());
  std::string tx1, tx2;
  ASSERT_TRUE(Export(admin_, 1, &tx1).ok());
  ASSERT_TRUE(Export(admin_, 2, &tx2).ok());
  schema::TxHeader hdr;

  // A tx that does not chain (tx 2 first), garbage, a cut message.
  grpc::Status st = Replicate(replica_, tx2, &hdr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_message().find("does not chain"), std::string::npos) << st.error_message();
  st = Replicate(replica_, "garbage bytes", &hdr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_message().find("malformed exported transaction"), std::string::npos)
      << st.error_message();
  st = Replicate(replica_, tx1.substr(0, tx1.size() / 2), &hdr);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(State(replica_).txid(), 0u);

  // A changed value no longer hashes to the header's Eh.
  std::string changed = tx1;
  changed[changed.size() - 4] ^= 0x01;
  st = Replicate(replica_, changed, &hdr);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(State(replica_).txid(), 0u);

  // Direct writes to a replica, and replication into a database that is not one.
  EXPECT_EQ(SetKey(replica_, "x", "y").error_message(),
            "database is read-only because it's a replica");
  st = Replicate(admin_, tx1, &hdr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_message().find("not a replica"), std::string::npos) << st.error_message();
  EXPECT_EQ(State(admin_).txid(), 2u);
  EXPECT_EQ(State(replica_).txid(), 0u);

  // Exporting a tx that does not exist.
  std::string none;
  EXPECT_EQ(Export(admin_, 99, &none).error_message(), "tx not found");
  EXPECT_FALSE(Export(admin_, 0, &none).ok());

  // Then the right order works.
  ASSERT_TRUE(Replicate(replica_, tx1, &hdr).ok());
  ASSERT_TRUE(Replicate(replica_, tx2, &hdr).ok());
  EXPECT_EQ(State(replica_).txhash(), State(admin_).txhash());
}

TEST_F(ReplicationTest, OnlyAdminsExportAndReplicate) {
  ASSERT_TRUE(SetKey(admin_, "a", "1").ok());
  grpc::Status st = CreateUser(admin_, "reader", 2, "defaultdb", "Reader1!pass");  // read-write
  ASSERT_TRUE(st.ok()) << st.error_message();
  const std::string user = UseDatabase(Login("reader", "Reader1!pass"), "defaultdb");
  ASSERT_FALSE(user.empty());
  std::string bytes;
  st = Export(user, 1, &bytes);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_message().find("permission denied"), std::string::npos) << st.error_message();
  schema::TxHeader hdr;
  st = Replicate(UseDatabase(user, "defaultdb"), "x", &hdr);
  EXPECT_NE(st.error_message().find("permission denied"), std::string::npos) << st.error_message();
}

// A replica database on a second server follows the primary by itself.
TEST_F(ReplicationTest, ReplicaFollowsAPrimaryOnAnotherServer) {
  ServerConfig c = LoopbackConfig(dir_ + "/second");
  auto opened = Server::Open(c);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Server> second = std::move(opened).value();
  ASSERT_TRUE(second->Start().ok());
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(second->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub2 = schema::ImmuService::NewStub(channel);
  auto login2 = [&] {
    grpc::ClientContext ctx;
    schema::LoginRequest req;
    req.set_user("immudb");
    req.set_password("immudb");
    schema::LoginResponse resp;
    EXPECT_TRUE(stub2->Login(&ctx, req, &resp).ok());
    return resp.token();
  };
  const std::string admin2 = login2();
  auto create = [&](const std::string& name, const std::string& password) {
    schema::CreateDatabaseRequest req;
    req.set_name(name);
    auto* rs = req.mutable_settings()->mutable_replicationsettings();
    rs->mutable_replica()->set_value(true);
    rs->mutable_primaryhost()->set_value("127.0.0.1");
    rs->mutable_primaryport()->set_value(static_cast<uint32_t>(server_->port()));
    rs->mutable_primarydatabase()->set_value("defaultdb");
    rs->mutable_primaryusername()->set_value("immudb");
    rs->mutable_primarypassword()->set_value(password);
    schema::CreateDatabaseResponse resp;
    grpc::Status st = stub2->CreateDatabaseV2(Ctx(admin2).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  };
  ASSERT_NO_FATAL_FAILURE(create("follower", "immudb"));
  ASSERT_NO_FATAL_FAILURE(create("badfollower", "wrong-password"));
  auto state2 = [&](const std::string& db) {
    schema::Database use;
    use.set_databasename(db);
    schema::UseDatabaseReply reply;
    EXPECT_TRUE(stub2->UseDatabase(Ctx(admin2).get(), use, &reply).ok());
    schema::ImmutableState s;
    EXPECT_TRUE(stub2->CurrentState(Ctx(reply.token()).get(), google::protobuf::Empty(), &s).ok());
    return s;
  };
  auto caught_up = [&] {
    const schema::ImmutableState want = State(admin_);
    for (int i = 0; i < 300; i++) {
      const schema::ImmutableState got = state2("follower");
      if (got.txid() == want.txid()) return got.txhash() == want.txhash();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  for (int i = 0; i < 100; i++) ASSERT_TRUE(SetKey(admin_, "p" + std::to_string(i), "v").ok());
  EXPECT_TRUE(caught_up());
  for (int i = 0; i < 20; i++) ASSERT_TRUE(SetKey(admin_, "q" + std::to_string(i), "w").ok());
  EXPECT_TRUE(caught_up());
  // The one with the wrong password replicated nothing; the server still serves.
  EXPECT_EQ(state2("badfollower").txid(), 0u);
  EXPECT_EQ(state2("follower").txid(), 120u);
  second.reset();  // Stops its replicators before closing its databases.
}

// --replication-is-replica and its flags make the second server's defaultdb
// follow the first server's defaultdb.
TEST_F(ReplicationTest, DefaultdbFollowsThePrimaryWithTheServerFlags) {
  for (int i = 0; i < 30; i++) ASSERT_TRUE(SetKey(admin_, "f" + std::to_string(i), "v").ok());
  ServerConfig c = LoopbackConfig(dir_ + "/flags");
  c.replication_is_replica = true;
  c.replication_primary_host = "127.0.0.1";
  c.replication_primary_port = server_->port();
  c.replication_primary_username = "immudb";
  c.replication_primary_password = "immudb";
  auto opened = Server::Open(c);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Server> second = std::move(opened).value();
  ASSERT_TRUE(second->Start().ok());
  auto stub2 = schema::ImmuService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(second->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext lctx;
  schema::LoginRequest req;
  req.set_user("immudb");
  req.set_password("immudb");
  schema::LoginResponse login;
  ASSERT_TRUE(stub2->Login(&lctx, req, &login).ok());
  const schema::ImmutableState want = State(admin_);
  schema::ImmutableState got;
  for (int i = 0; i < 300 && got.txid() != want.txid(); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(
        stub2->CurrentState(Ctx(login.token()).get(), google::protobuf::Empty(), &got).ok());
  }
  EXPECT_EQ(got.txid(), want.txid());
  EXPECT_EQ(got.txhash(), want.txhash());
  schema::SetRequest set;
  auto* kv = set.add_kvs();
  kv->set_key("x");
  kv->set_value("y");
  schema::TxHeader hdr;
  EXPECT_EQ(stub2->Set(Ctx(login.token()).get(), set, &hdr).error_message(),
            "database is read-only because it's a replica");
  second.reset();
}

}  // namespace
}  // namespace immudb::server
