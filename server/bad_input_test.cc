// Bad requests get immudb's errors and write nothing: the database state is
// the same before and after each one.
#include <thread>

#include "server/stream_framing.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

class BadInputTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->max_recv_msg_size = 40 << 20;  // Lets a 32 MiB + 1 value reach the engine.
  }
  void SetUp() override {
    ServerFixture::SetUp();
    token_ = Login();
    ASSERT_TRUE(SetKey(token_, "existing", "x").ok());
    before_ = State();
  }
  void TearDown() override {
    const schema::ImmutableState after = State();
    EXPECT_EQ(after.txid(), before_.txid());
    EXPECT_EQ(after.txhash(), before_.txhash());
    ServerFixture::TearDown();
  }
  schema::ImmutableState State() {
    schema::ImmutableState st;
    EXPECT_TRUE(stub_->CurrentState(Ctx(token_).get(), Empty(), &st).ok());
    return st;
  }
  grpc::Status Set(const std::string& key, const std::string& value,
                   const std::string& token = "") {
    return SetKey(token.empty() ? token_ : token, key, value);
  }

  std::string token_;
  schema::ImmutableState before_;
};

TEST_F(BadInputTest, KeyAndValueLimits) {
  grpc::Status st = Set(std::string(2000, 'k'), "v");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message(), "max key length exceeded");
  st = Set("big", std::string((32 << 20) + 1, 'v'));
  EXPECT_EQ(st.error_message(), "max value length exceeded");

  schema::SetRequest many;
  for (int i = 0; i < 1025; ++i) many.add_kvs()->set_key("k" + std::to_string(i));
  schema::TxHeader hdr;
  EXPECT_EQ(stub_->Set(Ctx(token_).get(), many, &hdr).error_message(),
            "max number of entries per tx exceeded");

  // Streamed values over 32 MiB in total.
  auto ctx = Ctx(token_);
  auto w = stub_->streamSet(ctx.get(), &hdr);
  schema::Chunk c;
  c.set_content(EncodeU64(1) + "a" + EncodeU64((32 << 20) + 1));
  w->Write(c);
  w->WritesDone();
  EXPECT_EQ(w->Finish().error_message(), "max tx values length exceeded");
}

TEST_F(BadInputTest, EmptyAndDuplicateKeys) {
  grpc::Status st = Set("", "v");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "illegal arguments");

  schema::KeyRequest get;
  schema::Entry e;
  EXPECT_EQ(stub_->Get(Ctx(token_).get(), get, &e).error_message(), "illegal arguments: empty key");

  schema::SetRequest dup;
  dup.add_kvs()->set_key("d");
  dup.add_kvs()->set_key("d");
  schema::TxHeader hdr;
  EXPECT_EQ(stub_->Set(Ctx(token_).get(), dup, &hdr).error_message(),
            "duplicated keys are not supported in single batch transaction");

  schema::ExecAllRequest none;
  EXPECT_EQ(stub_->ExecAll(Ctx(token_).get(), none, &hdr).error_message(), "empty set");
  schema::ExecAllRequest unset;
  unset.add_operations();
  EXPECT_EQ(stub_->ExecAll(Ctx(token_).get(), unset, &hdr).error_message(), "Op is not set");

  schema::ZAddRequest z;
  z.set_set("s");
  EXPECT_EQ(stub_->ZAdd(Ctx(token_).get(), z, &hdr).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  schema::ReferenceRequest ref;
  ref.set_key("r");
  ref.set_referencedkey("absent");
  EXPECT_EQ(stub_->SetReference(Ctx(token_).get(), ref, &hdr).error_message(), "key not found");

  schema::VerifiableSetRequest vs;
  vs.mutable_setrequest()->add_kvs()->set_key("k");
  vs.set_provesincetx(99);
  schema::VerifiableTx vtx;
  grpc::Status vst = stub_->VerifiableSet(Ctx(token_).get(), vs, &vtx);
  EXPECT_EQ(vst.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(vst.error_message(), "illegal state");
}

// ExecAll refuses a key written twice (plain or reference) or a member added
// twice before it looks at anything else: two empty references are a
// duplicate (what immudb-node 1.1.1 sends for two plain ops), one is an
// illegal argument.
TEST_F(BadInputTest, ExecAllDuplicates) {
  schema::TxHeader hdr;
  const auto exec = [&](const schema::ExecAllRequest& req) {
    return stub_->ExecAll(Ctx(token_).get(), req, &hdr);
  };
  const std::string dup = "duplicated keys are not supported in single batch transaction";

  schema::ExecAllRequest kvs;
  kvs.add_operations()->mutable_kv()->set_key("d");
  kvs.add_operations()->mutable_kv()->set_key("d");
  grpc::Status st = exec(kvs);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), dup + ": key/reference 'd'");

  schema::ExecAllRequest kv_then_ref;
  kv_then_ref.add_operations()->mutable_kv()->set_key("x");
  schema::ReferenceRequest* r = kv_then_ref.add_operations()->mutable_ref();
  r->set_key("x");
  r->set_referencedkey("existing");
  EXPECT_EQ(exec(kv_then_ref).error_message(), dup + ": key/reference 'x'");

  schema::ExecAllRequest empty_refs;
  empty_refs.add_operations()->mutable_ref();
  st = exec(empty_refs);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "illegal arguments");
  empty_refs.add_operations()->mutable_ref();
  st = exec(empty_refs);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), dup + ": key/reference ''");

  // A duplicate before an unset op wins, as the ops are checked in order.
  schema::ExecAllRequest zadds;
  for (int i = 0; i < 2; ++i) {
    schema::ZAddRequest* z = zadds.add_operations()->mutable_zadd();
    z->set_set("s");
    z->set_key("existing");
    z->set_score(i);  // The score does not make a member different.
  }
  zadds.add_operations();
  st = exec(zadds);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(),
            "duplicated index inside zAdd insertions are not supported in single batch "
            "transaction");

  // The same member at another tx, and a key that is also a set member's
  // key, are not duplicates: this one is written.
  schema::ExecAllRequest ok;
  ok.add_operations()->mutable_kv()->set_key("existing");
  schema::ZAddRequest* z = ok.add_operations()->mutable_zadd();
  z->set_set("s");
  z->set_key("existing");
  z = ok.add_operations()->mutable_zadd();
  z->set_set("s");
  z->set_key("existing");
  z->set_attx(1);
  z->set_boundref(true);
  ASSERT_TRUE(exec(ok).ok());
  before_ = State();  // TearDown checks that nothing else was written.
}

TEST_F(BadInputTest, UnknownDatabase) {
  schema::Database db;
  db.set_databasename("nope");
  schema::UseDatabaseReply use;
  grpc::Status st = stub_->UseDatabase(Ctx(token_).get(), db, &use);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "'nope' does not exist");

  EXPECT_EQ(CreateUser(token_, "u1", 2, "nope").error_message(), "database nope does not exist");
  Empty out;
  db.set_databasename("Bad-Name!");
  EXPECT_FALSE(stub_->CreateDatabase(Ctx(token_).get(), db, &out).ok());
}

TEST_F(BadInputTest, CredentialsAndTokens) {
  grpc::ClientContext ctx;
  schema::LoginRequest login;
  login.set_user("immudb");
  login.set_password("wrong");
  schema::LoginResponse resp;
  EXPECT_EQ(stub_->Login(&ctx, login, &resp).error_message(), "invalid user name or password");

  grpc::ClientContext nobody;
  schema::SetRequest set;
  set.add_kvs()->set_key("k");
  schema::TxHeader hdr;
  EXPECT_EQ(stub_->Set(&nobody, set, &hdr).error_message(), "not logged in");
  EXPECT_EQ(Set("k", "v", "immt.forged").error_message(), "invalid token");
  EXPECT_EQ(Set("k", "v", "immt.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").error_message(),
            "not logged in");
}

TEST_F(BadInputTest, ReadOnlyUserCannotWriteAnyWay) {
  ASSERT_TRUE(CreateUser(token_, "reader", 1, "defaultdb").ok());
  const std::string reader = Login("reader", "Secret1!");

  EXPECT_EQ(Set("k", "v", reader).error_message(), "permission denied");
  schema::TxHeader hdr;
  schema::VerifiableSetRequest vs;
  vs.mutable_setrequest()->add_kvs()->set_key("k");
  schema::VerifiableTx vtx;
  EXPECT_EQ(stub_->VerifiableSet(Ctx(reader).get(), vs, &vtx).error_message(), "permission denied");
  schema::ZAddRequest z;
  z.set_set("s");
  z.set_key("existing");
  EXPECT_EQ(stub_->ZAdd(Ctx(reader).get(), z, &hdr).error_message(), "permission denied");
  schema::DeleteKeysRequest del;
  del.add_keys("existing");
  EXPECT_EQ(stub_->Delete(Ctx(reader).get(), del, &hdr).error_message(), "permission denied");
  auto ctx = Ctx(reader);
  auto w = stub_->streamSet(ctx.get(), &hdr);
  schema::Chunk c;
  c.set_content(EncodeU64(1) + "k" + EncodeU64(1) + "v");
  w->Write(c);
  w->WritesDone();
  EXPECT_EQ(w->Finish().error_message(), "permission denied");
  // Reads still work.
  schema::KeyRequest get;
  get.set_key("existing");
  schema::Entry e;
  EXPECT_TRUE(stub_->Get(Ctx(reader).get(), get, &e).ok());
}

class ExpiringTokenTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override { c->token_expiry_ms_override = 300; }
};

TEST_F(ExpiringTokenTest, ExpiredTokenIsRefused) {
  const std::string token = Login();
  schema::ImmutableState st;
  ASSERT_TRUE(stub_->CurrentState(Ctx(token).get(), Empty(), &st).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  grpc::Status s = SetKey(token, "k", "v");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "token has expired");
  // Nothing was written: a fresh login sees an empty database.
  ASSERT_TRUE(stub_->CurrentState(Ctx(Login()).get(), Empty(), &st).ok());
  EXPECT_EQ(st.txid(), 0u);
}

}  // namespace
}  // namespace immudb::server
