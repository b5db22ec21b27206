// End-to-end tests: a Server on a free loopback port, driven by a gRPC client.
#include "server/server.h"

#include <chrono>
#include <thread>

#include "immudb/database.h"
#include "immudb/hash.h"
#include "immudb/verify.h"
#include "schema.grpc.pb.h"
#include "server/convert.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

class ServerTest : public ServerFixture {
 protected:
  schema::VerifiableEntry VerifiedGet(const std::string& token, const std::string& key,
                                      uint64_t prove_since) {
    schema::VerifiableGetRequest req;
    req.mutable_keyrequest()->set_key(key);
    req.set_provesincetx(prove_since);
    schema::VerifiableEntry ve;
    grpc::Status st = stub_->VerifiableGet(Ctx(token).get(), req, &ve);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return ve;
  }
};

TEST_F(ServerTest, HealthNeedsNoLoginAndCarriesUuidHeader) {
  grpc::ClientContext ctx;
  schema::HealthResponse resp;
  ASSERT_TRUE(stub_->Health(&ctx, Empty(), &resp).ok());
  EXPECT_TRUE(resp.status());
  auto md = ctx.GetServerInitialMetadata();
  auto it = md.find("immudb-uuid");
  ASSERT_NE(it, md.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), server_->uuid());
  EXPECT_EQ(server_->uuid().size(), 20u);
}

TEST_F(ServerTest, UuidHeaderAlsoOnErrors) {
  grpc::ClientContext ctx;
  schema::ImmutableState st;
  EXPECT_FALSE(stub_->CurrentState(&ctx, Empty(), &st).ok());
  EXPECT_EQ(ctx.GetServerInitialMetadata().count("immudb-uuid"), 1u);
}

TEST_F(ServerTest, UuidHeaderOnEveryKindOfHandler) {
  const std::string token = Login();
  auto has_uuid = [this](const grpc::ClientContext& ctx) {
    auto md = ctx.GetServerInitialMetadata();
    auto it = md.find("immudb-uuid");
    return it != md.end() && std::string(it->second.data(), it->second.size()) == server_->uuid();
  };
  // A write, and a read that fails.
  schema::SetRequest set;
  auto* kv = set.add_kvs();
  kv->set_key("k");
  kv->set_value("v");
  schema::TxHeader hdr;
  auto sctx = Ctx(token);
  ASSERT_TRUE(stub_->Set(sctx.get(), set, &hdr).ok());
  EXPECT_TRUE(has_uuid(*sctx));
  schema::KeyRequest get;
  get.set_key("missing");
  schema::Entry e;
  auto gctx = Ctx(token);
  EXPECT_FALSE(stub_->Get(gctx.get(), get, &e).ok());
  EXPECT_TRUE(has_uuid(*gctx));
  // A server stream and a client stream.
  schema::ScanRequest scan;
  auto rctx = Ctx(token);
  auto reader = stub_->streamScan(rctx.get(), scan);
  schema::Chunk chunk;
  while (reader->Read(&chunk)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(has_uuid(*rctx));
  auto wctx = Ctx(token);
  auto writer = stub_->streamSet(wctx.get(), &hdr);
  writer->WritesDone();
  EXPECT_FALSE(writer->Finish().ok());  // No key-value pairs.
  EXPECT_TRUE(has_uuid(*wctx));
}

TEST_F(ServerTest, WrongPasswordAndNoToken) {
  grpc::ClientContext ctx;
  schema::LoginRequest req;
  req.set_user("immudb");
  req.set_password("wrong");
  schema::LoginResponse resp;
  grpc::Status st = stub_->Login(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message(), "invalid user name or password");

  schema::ImmutableState state;
  st = stub_->CurrentState(Ctx("").get(), Empty(), &state);
  EXPECT_EQ(st.error_message(), "not logged in");
  st = stub_->CurrentState(Ctx("garbage").get(), Empty(), &state);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), "invalid token");
}

TEST_F(ServerTest, LoginStateLogout) {
  grpc::ClientContext ctx;
  schema::LoginRequest req;
  req.set_user("immudb");
  req.set_password("immudb");
  schema::LoginResponse resp;
  ASSERT_TRUE(stub_->Login(&ctx, req, &resp).ok());
  EXPECT_FALSE(resp.warning().empty());  // Default password.
  const std::string token = resp.token();

  schema::ImmutableState state;
  ASSERT_TRUE(stub_->CurrentState(Ctx(token).get(), Empty(), &state).ok());
  EXPECT_EQ(state.db(), "defaultdb");
  EXPECT_EQ(state.txid(), 0u);
  const Hash& empty = EmptyHash();
  EXPECT_EQ(state.txhash(), std::string(reinterpret_cast<const char*>(empty.data()), 32));

  Empty out;
  ASSERT_TRUE(stub_->Logout(Ctx(token).get(), Empty(), &out).ok());
  grpc::Status st = stub_->CurrentState(Ctx(token).get(), Empty(), &state);
  EXPECT_EQ(st.error_message(), "not logged in");
}

TEST_F(ServerTest, SetGetRoundTrip) {
  const std::string token = Login();
  schema::SetRequest set;
  auto* kv = set.add_kvs();
  kv->set_key("hello");
  kv->set_value("world");
  schema::TxHeader hdr;
  ASSERT_TRUE(stub_->Set(Ctx(token).get(), set, &hdr).ok());
  EXPECT_EQ(hdr.id(), 1u);
  EXPECT_EQ(hdr.version(), 0);  // immudb-node 1.1.1 verifies only version-0 headers.

  schema::KeyRequest get;
  get.set_key("hello");
  schema::Entry e;
  ASSERT_TRUE(stub_->Get(Ctx(token).get(), get, &e).ok());
  EXPECT_EQ(e.value(), "world");
  EXPECT_EQ(e.tx(), 1u);
  EXPECT_FALSE(e.has_metadata());

  get.set_key("absent");
  grpc::Status st = stub_->Get(Ctx(token).get(), get, &e);
  EXPECT_EQ(st.error_message(), "key not found");
}

TEST_F(ServerTest, VerifiableSetAndGetVerify) {
  const std::string token = Login();
  schema::VerifiableSetRequest vs;
  auto* kv = vs.mutable_setrequest()->add_kvs();
  kv->set_key("k1");
  kv->set_value("v1");
  schema::VerifiableTx vtx;
  ASSERT_TRUE(stub_->VerifiableSet(Ctx(token).get(), vs, &vtx).ok());
  ASSERT_EQ(vtx.tx().entries_size(), 1);
  auto target = FromProto(vtx.dualproof().targettxheader());
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->id, 1u);

  // A second write, then a verified read of k1 proven against tx 1.
  vs.mutable_setrequest()->mutable_kvs(0)->set_key("k2");
  ASSERT_TRUE(stub_->VerifiableSet(Ctx(token).get(), vs, &vtx).ok());
  auto alh1 = target->Alh();
  ASSERT_TRUE(alh1.ok());

  schema::VerifiableEntry ve = VerifiedGet(token, "k1", 2);
  EXPECT_EQ(ve.entry().value(), "v1");
  auto dp = FromProto(ve.verifiabletx().dualproof());
  ASSERT_TRUE(dp.ok());
  auto ip = FromProto(ve.inclusionproof());
  ASSERT_TRUE(ip.ok());
  // Entry tx 1 is the source, the client's state (tx 2) the target.
  auto digest =
      EntryDigest(dp->source_tx_header.version, EncodeKey("k1"), "", Sha256Of(EncodeValue("v1")));
  ASSERT_TRUE(digest.ok());
  EXPECT_TRUE(verify::VerifyHtreeInclusion(*ip, *digest, dp->source_tx_header.eh));
  auto src_alh = dp->source_tx_header.Alh();
  auto tgt_alh = dp->target_tx_header.Alh();
  ASSERT_TRUE(src_alh.ok() && tgt_alh.ok());
  EXPECT_EQ(*src_alh, *alh1);
  EXPECT_TRUE(verify::VerifyDualProof(*dp, 1, 2, *src_alh, *tgt_alh));
  // A changed value must not verify.
  auto bad = EntryDigest(0, EncodeKey("k1"), "", Sha256Of(EncodeValue("v2")));
  EXPECT_FALSE(verify::VerifyHtreeInclusion(*ip, *bad, dp->source_tx_header.eh));
}

TEST_F(ServerTest, CreateDatabaseAndUseIt) {
  std::string token = Login();
  schema::Database db;
  db.set_databasename("db1");
  Empty out;
  ASSERT_TRUE(stub_->CreateDatabase(Ctx(token).get(), db, &out).ok());
  grpc::Status st = stub_->CreateDatabase(Ctx(token).get(), db, &out);
  EXPECT_EQ(st.error_message(), "database already exists");
  db.set_databasename("systemdb");
  EXPECT_EQ(stub_->CreateDatabase(Ctx(token).get(), db, &out).error_message(),
            "database is reserved");

  // Multi-db mode: a fresh login has no database selected.
  token = Login();
  schema::ImmutableState state;
  st = stub_->CurrentState(Ctx(token).get(), Empty(), &state);
  EXPECT_EQ(st.error_message(), "please select a database first");

  db.set_databasename("nope");
  schema::UseDatabaseReply use;
  st = stub_->UseDatabase(Ctx(token).get(), db, &use);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  db.set_databasename("db1");
  ASSERT_TRUE(stub_->UseDatabase(Ctx(token).get(), db, &use).ok());
  ASSERT_TRUE(stub_->CurrentState(Ctx(use.token()).get(), Empty(), &state).ok());
  EXPECT_EQ(state.db(), "db1");

  schema::DatabaseListResponse list;
  ASSERT_TRUE(stub_->DatabaseList(Ctx(token).get(), Empty(), &list).ok());
  ASSERT_EQ(list.databases_size(), 2);
  EXPECT_EQ(list.databases(0).databasename(), "defaultdb");
  EXPECT_EQ(list.databases(1).databasename(), "db1");
}

TEST_F(ServerTest, ReadOnlyUserCannotWrite) {
  const std::string admin = Login();
  ASSERT_TRUE(CreateUser(admin, "reader", 1, "defaultdb").ok());
  EXPECT_EQ(CreateUser(admin, "reader", 1, "defaultdb").error_message(), "user already exists");

  // The user exists now, but the server is not in multi-db mode until
  // restart; its token is bound to defaultdb.
  const std::string reader = Login("reader", "Secret1!");
  schema::SetRequest set;
  set.add_kvs()->set_key("x");
  schema::TxHeader hdr;
  grpc::Status st = stub_->Set(Ctx(reader).get(), set, &hdr);
  EXPECT_EQ(st.error_message(), "permission denied");
  schema::ImmutableState state;
  EXPECT_TRUE(stub_->CurrentState(Ctx(reader).get(), Empty(), &state).ok());

  schema::UserList users;
  ASSERT_TRUE(stub_->ListUsers(Ctx(reader).get(), Empty(), &users).ok());
  ASSERT_EQ(users.users_size(), 1);
  EXPECT_EQ(users.users(0).user(), "reader");
  ASSERT_TRUE(stub_->ListUsers(Ctx(admin).get(), Empty(), &users).ok());
}

// ChangePermission and SetActiveUser record who changed the user and when
// (createdby/createdat, as immudb does); ChangePassword and SetActiveUser
// need the sysadmin or an admin, who may only change users it created.
TEST_F(ServerTest, UserChangesRecordWhoAndWhen) {
  const std::string root = Login();
  Empty out;
  const auto create = [&](const std::string& token, const std::string& name, uint32_t perm) {
    return CreateUser(token, name, perm, "defaultdb");
  };
  const auto user = [&](const std::string& name) {
    schema::UserList users;
    EXPECT_TRUE(stub_->ListUsers(Ctx(root).get(), Empty(), &users).ok());
    for (const schema::User& u : users.users()) {
      if (u.user() == name) return u;
    }
    ADD_FAILURE() << "no user " << name;
    return schema::User();
  };
  ASSERT_TRUE(create(root, "boss", 254).ok());
  ASSERT_TRUE(create(root, "other", 1).ok());
  const std::string boss = Login("boss", "Secret1!");
  ASSERT_TRUE(create(boss, "worker", 1).ok());
  EXPECT_EQ(user("worker").createdby(), "boss");

  const schema::User other = user("other");
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  schema::ChangePermissionRequest cp;
  cp.set_action(schema::GRANT);
  cp.set_permission(2);
  cp.set_username("other");
  cp.set_database("defaultdb");
  ASSERT_TRUE(stub_->ChangePermission(Ctx(boss).get(), cp, &out).ok());
  EXPECT_EQ(user("other").createdby(), "boss");
  EXPECT_NE(user("other").createdat(), other.createdat());

  schema::SetActiveUserRequest sa;
  sa.set_username("other");
  grpc::Status st = stub_->SetActiveUser(Ctx(root).get(), sa, &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(user("other").createdby(), "immudb");
  EXPECT_FALSE(user("other").active());
  // "other" is now the sysadmin's: boss may not change it.
  sa.set_active(true);
  st = stub_->SetActiveUser(Ctx(boss).get(), sa, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message(), "other was not created by you");
  schema::ChangePasswordRequest pw;
  pw.set_user("other");
  pw.set_newpassword("Secret2!");
  EXPECT_EQ(stub_->ChangePassword(Ctx(boss).get(), pw, &out).error_message(),
            "user other was not found or it was not created by you");
  pw.set_user("ghost");
  EXPECT_EQ(stub_->ChangePassword(Ctx(root).get(), pw, &out).error_message(),
            "user ghost was not found or it was not created by you");

  // Neither the sysadmin nor an admin anywhere.
  const std::string worker = Login("worker", "Secret1!");
  pw.set_user("worker");
  st = stub_->ChangePassword(Ctx(worker).get(), pw, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message(), "user is not system admin nor admin in any of the databases");
  sa.set_username("boss");
  EXPECT_EQ(stub_->SetActiveUser(Ctx(worker).get(), sa, &out).error_message(),
            "user is not system admin nor admin in any of the databases");
  EXPECT_TRUE(user("boss").active());
}

TEST_F(ServerTest, UsersAndDataSurviveRestart) {
  std::string token = Login();
  ASSERT_TRUE(CreateUser(token, "writer", 2, "defaultdb").ok());
  schema::SetRequest set;
  auto* kv = set.add_kvs();
  kv->set_key("durable");
  kv->set_value("yes");
  schema::TxHeader hdr;
  ASSERT_TRUE(stub_->Set(Ctx(token).get(), set, &hdr).ok());
  const std::string uuid = server_->uuid();

  server_.reset();
  StartServer();
  EXPECT_EQ(server_->uuid(), uuid);
  // Old tokens are gone; the user is still there (and multi-db mode is on).
  schema::ImmutableState state;
  EXPECT_EQ(stub_->CurrentState(Ctx(token).get(), Empty(), &state).error_message(),
            "not logged in");
  token = Login("writer", "Secret1!");
  schema::Database db;
  db.set_databasename("defaultdb");
  schema::UseDatabaseReply use;
  ASSERT_TRUE(stub_->UseDatabase(Ctx(token).get(), db, &use).ok());
  schema::KeyRequest get;
  get.set_key("durable");
  schema::Entry e;
  ASSERT_TRUE(stub_->Get(Ctx(use.token()).get(), get, &e).ok());
  EXPECT_EQ(e.value(), "yes");
}

TEST_F(ServerTest, SqlIsUnimplementedWithAMessage) {
  const std::string token = Login();
  schema::SQLExecRequest req;
  req.set_sql("CREATE TABLE t (id INTEGER, PRIMARY KEY id)");
  schema::SQLExecResult res;
  grpc::Status st = stub_->SQLExec(Ctx(token).get(), req, &res);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_FALSE(st.error_message().empty());
}

}  // namespace
}  // namespace immudb::server

namespace immudb::server {
namespace {

class DatabaseHealthTest : public ServerFixture {
 protected:
  schema::DatabaseHealthResponse Health(const std::string& token) {
    schema::DatabaseHealthResponse h;
    grpc::Status st = stub_->DatabaseHealth(Ctx(token).get(), google::protobuf::Empty(), &h);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return h;
  }
  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

TEST_F(DatabaseHealthTest, CountsRequestsInProgressAndTheLastCompletion) {
  const std::string token = Login();
  schema::DatabaseHealthResponse h = Health(token);
  EXPECT_EQ(h.pendingrequests(), 0u);
  EXPECT_EQ(h.lastrequestcompletedat(), 0);  // Nothing ran on defaultdb yet.

  const int64_t before = NowMs();
  ASSERT_TRUE(SetKey(token, "k", "v").ok());
  h = Health(token);
  EXPECT_EQ(h.pendingrequests(), 0u);
  EXPECT_GE(h.lastrequestcompletedat(), before);
  EXPECT_LE(h.lastrequestcompletedat(), NowMs());

  // A stream the client keeps open is a request in progress.
  auto ctx = Ctx(token);
  schema::TxHeader hdr;
  auto writer = stub_->streamSet(ctx.get(), &hdr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Health(token).pendingrequests() != 1u && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(Health(token).pendingrequests(), 1u);
  const int64_t open_since = NowMs();
  writer->WritesDone();
  EXPECT_FALSE(writer->Finish().ok());  // An empty stream sets nothing.
  h = Health(token);
  EXPECT_EQ(h.pendingrequests(), 0u);
  EXPECT_GE(h.lastrequestcompletedat(), open_since);
}

}  // namespace
}  // namespace immudb::server

namespace immudb::server {
namespace {

class DeleteDatabaseTest : public ServerFixture {
 protected:
  grpc::Status Delete(const std::string& token, const std::string& db) {
    schema::DeleteDatabaseRequest req;
    req.set_database(db);
    schema::DeleteDatabaseResponse resp;
    grpc::Status st = stub_->DeleteDatabase(Ctx(token).get(), req, &resp);
    if (st.ok()) {
      EXPECT_EQ(resp.database(), db);
    }
    return st;
  }
  grpc::Status Unload(const std::string& token, const std::string& db) {
    schema::UnloadDatabaseRequest req;
    req.set_database(db);
    schema::UnloadDatabaseResponse resp;
    return stub_->UnloadDatabase(Ctx(token).get(), req, &resp);
  }
  grpc::Status Create(const std::string& token, const std::string& db) {
    schema::CreateDatabaseRequest req;
    req.set_name(db);
    schema::CreateDatabaseResponse resp;
    return stub_->CreateDatabaseV2(Ctx(token).get(), req, &resp);
  }
  std::string Use(const std::string& token, const std::string& db, grpc::Status* st) {
    schema::Database req;
    req.set_databasename(db);
    schema::UseDatabaseReply resp;
    *st = stub_->UseDatabase(Ctx(token).get(), req, &resp);
    return resp.token();
  }
};

TEST_F(DeleteDatabaseTest, OnlyUnloadedUserDatabasesAreDeletedWithTheirFiles) {
  const std::string token = Login();
  ASSERT_TRUE(Create(token, "doomed").ok());
  grpc::Status st;
  std::string db_token = Use(token, "doomed", &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(SetKey(db_token, "k", "v").ok());
  ASSERT_TRUE(std::filesystem::is_directory(dir_ + "/doomed"));

  st = Delete(token, "doomed");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.error_message(), "cannot delete an open database");
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/doomed"));
  for (const char* reserved : {"defaultdb", "systemdb"}) {
    st = Delete(token, reserved);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.error_message(), "database is reserved") << reserved;
  }
  st = Delete(token, "nosuchdb");
  EXPECT_FALSE(st.ok());

  ASSERT_TRUE(Unload(token, "doomed").ok());
  st = Delete(token, "doomed");
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/doomed"));
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find("doomed"), std::string::npos) << e.path();
  }
  Use(token, "doomed", &st);
  EXPECT_FALSE(st.ok());

  // The name is free again, for an empty database; a restart does not bring
  // the deleted one back.
  ASSERT_TRUE(Create(token, "doomed").ok());
  db_token = Use(token, "doomed", &st);
  ASSERT_TRUE(st.ok());
  schema::ImmutableState state;
  ASSERT_TRUE(stub_->CurrentState(Ctx(db_token).get(), google::protobuf::Empty(), &state).ok());
  EXPECT_EQ(state.txid(), 0u);
  ASSERT_TRUE(Unload(token, "doomed").ok());
  ASSERT_TRUE(Delete(token, "doomed").ok());
  // A deletion cut short by a crash leaves a renamed directory: removed at
  // the next start, never opened as a database.
  std::filesystem::create_directories(dir_ + "/.deleted-old-1/x");
  server_.reset();
  StartServer();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/.deleted-old-1"));
  const std::string again = Login();
  Use(again, "doomed", &st);
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace immudb::server
