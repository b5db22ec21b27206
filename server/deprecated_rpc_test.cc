// The deprecated v1 database calls (CreateDatabaseWith, UpdateDatabase,
// GetDatabaseSettings), TruncateDatabase, and the RPCs this server
// does not offer: each answers with a message, none with the generated
// default (UNIMPLEMENTED and an empty message). gRPC and REST.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <httplib.h>

#include <ctime>
#include <future>

#include "server/json.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

class DeprecatedRpcTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->web_server = true;
    c->web_server_port = 0;
  }

  grpc::Status CreateWith(const std::string& token, const schema::DatabaseSettings& s) {
    Empty out;
    return stub_->CreateDatabaseWith(Ctx(token).get(), s, &out);
  }
  schema::DatabaseNullableSettings SettingsV2(const std::string& db_token) {
    schema::DatabaseSettingsResponse resp;
    grpc::Status st =
        stub_->GetDatabaseSettingsV2(Ctx(db_token).get(), schema::DatabaseSettingsRequest(), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.settings();
  }
  grpc::Status Truncate(const std::string& token, const std::string& db, int64_t retention_ms) {
    schema::TruncateDatabaseRequest req;
    req.set_database(db);
    req.set_retentionperiod(retention_ms);
    schema::TruncateDatabaseResponse resp;
    return stub_->TruncateDatabase(Ctx(token).get(), req, &resp);
  }
  httplib::Result Post(const std::string& path, const std::string& body, const std::string& token) {
    httplib::Client cli("127.0.0.1", server_->web_port());
    cli.set_read_timeout(10);
    return cli.Post(path, {{"Authorization", "Bearer " + token}}, body, "application/json");
  }
};

TEST_F(DeprecatedRpcTest, CreateDatabaseWithAppliesTheV1Settings) {
  const std::string token = Login();
  schema::DatabaseSettings s;
  s.set_databasename("Legacy1");  // Lower-cased, as by CreateDatabaseV2.
  s.set_maxkeylen(512);
  s.set_maxtxentries(64);
  s.set_excludecommittime(true);
  ASSERT_TRUE(CreateWith(token, s).ok());
  EXPECT_EQ(CreateWith(token, s).error_message(), "database already exists");

  const std::string db = UseDatabase(Login(), "legacy1");
  const auto got = SettingsV2(db);
  EXPECT_EQ(got.maxkeylen().value(), 512u);
  EXPECT_EQ(got.maxtxentries().value(), 64u);
  EXPECT_TRUE(got.excludecommittime().value());
  EXPECT_EQ(got.maxvaluelen().value(), DbSettings().max_value_len);  // Zero = default.
  EXPECT_FALSE(got.replicationsettings().replica().value());

  // The limit is in force: a longer key is refused.
  schema::SetRequest set;
  auto* kv = set.add_kvs();
  kv->set_key(std::string(600, 'k'));
  kv->set_value("v");
  schema::TxHeader hdr;
  EXPECT_FALSE(stub_->Set(Ctx(db).get(), set, &hdr).ok());

  // Bad input: a reserved or invalid name, a bad setting; nothing is created.
  s.set_databasename("defaultdb");
  EXPECT_EQ(CreateWith(token, s).error_message(), "database is reserved");
  s.set_databasename("bad-name!");
  EXPECT_FALSE(CreateWith(token, s).ok());
  s.set_databasename("legacy2");
  s.set_maxkeylen(0);
  s.set_primaryhost("10.0.0.1");  // A primary only for a replica.
  grpc::Status st = CreateWith(token, s);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  schema::DatabaseListResponse list;
  ASSERT_TRUE(stub_->DatabaseList(Ctx(token).get(), Empty(), &list).ok());
  EXPECT_EQ(list.databases_size(), 2);

  // Only the sysadmin creates databases.
  ASSERT_TRUE(CreateUser(token, "alice", 254, "legacy1").ok());
  s.set_primaryhost("");
  EXPECT_EQ(CreateWith(Login("alice", "Secret1!"), s).error_message(),
            "loggedin user does not have permissions for this operation");
}

TEST_F(DeprecatedRpcTest, UpdateDatabaseAndGetDatabaseSettings) {
  const std::string token = Login();
  schema::DatabaseSettings s;
  s.set_databasename("legacy");
  s.set_filesize(1 << 20);
  ASSERT_TRUE(CreateWith(token, s).ok());
  const std::string db = UseDatabase(Login(), "legacy");

  schema::DatabaseSettings v1;
  ASSERT_TRUE(stub_->GetDatabaseSettings(Ctx(db).get(), Empty(), &v1).ok());
  const auto v2 = SettingsV2(db);
  EXPECT_EQ(v1.databasename(), "legacy");
  EXPECT_EQ(v1.filesize(), 1u << 20);
  EXPECT_EQ(v1.filesize(), v2.filesize().value());
  EXPECT_EQ(v1.maxkeylen(), v2.maxkeylen().value());
  EXPECT_EQ(v1.maxvaluelen(), v2.maxvaluelen().value());
  EXPECT_EQ(v1.maxtxentries(), v2.maxtxentries().value());
  EXPECT_FALSE(v1.replica());
  EXPECT_TRUE(v1.primarypassword().empty());

  schema::DatabaseSettings up;
  up.set_databasename("legacy");
  up.set_maxvaluelen(4096);
  Empty out;
  ASSERT_TRUE(stub_->UpdateDatabase(Ctx(token).get(), up, &out).ok());
  ASSERT_TRUE(stub_->GetDatabaseSettings(Ctx(db).get(), Empty(), &v1).ok());
  EXPECT_EQ(v1.maxvaluelen(), 4096u);
  EXPECT_EQ(v1.filesize(), 1u << 20);  // Zero: unchanged.

  // Bad input changes nothing: the file size of an existing database, a
  // reserved or unknown database.
  up.set_maxvaluelen(100);
  up.set_filesize(2 << 20);
  grpc::Status st = stub_->UpdateDatabase(Ctx(token).get(), up, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(stub_->GetDatabaseSettings(Ctx(db).get(), Empty(), &v1).ok());
  EXPECT_EQ(v1.maxvaluelen(), 4096u);
  up.set_filesize(0);
  up.set_databasename("systemdb");
  EXPECT_EQ(stub_->UpdateDatabase(Ctx(token).get(), up, &out).error_message(),
            "database is reserved");
  up.set_databasename("nosuch");
  EXPECT_EQ(stub_->UpdateDatabase(Ctx(token).get(), up, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // A read-only user reads the settings but cannot change them.
  ASSERT_TRUE(CreateUser(token, "reader", 1, "legacy").ok());
  const std::string reader = UseDatabase(Login("reader", "Secret1!"), "legacy");
  ASSERT_TRUE(stub_->GetDatabaseSettings(Ctx(reader).get(), Empty(), &v1).ok());
  up.set_databasename("legacy");
  EXPECT_FALSE(stub_->UpdateDatabase(Ctx(reader).get(), up, &out).ok());
  // Without a selected database, or a login, there are no settings to read.
  EXPECT_EQ(stub_->GetDatabaseSettings(Ctx(Login()).get(), Empty(), &v1).error_message(),
            "please select a database first");
  EXPECT_EQ(stub_->GetDatabaseSettings(Ctx("").get(), Empty(), &v1).error_message(),
            "not logged in");
}

TEST_F(DeprecatedRpcTest, TruncateDatabaseChecksTheRequest) {
  const std::string token = Login();
  schema::DatabaseSettings s;
  s.set_databasename("big");
  ASSERT_TRUE(CreateWith(token, s).ok());
  const int64_t day = int64_t{24} * 3600 * 1000;

  grpc::Status st = Truncate(token, "defaultdb", day);
  EXPECT_EQ(st.error_message(), "database is reserved");
  st = Truncate(token, "systemdb", day);
  EXPECT_EQ(st.error_message(), "database is reserved");
  st = Truncate("", "big", day);
  EXPECT_EQ(st.error_message(), "not logged in");
  for (int64_t bad : {int64_t{-1}, int64_t{1000}, day - 1}) {
    st = Truncate(token, "big", bad);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_EQ(st.error_message(),
              "illegal arguments: invalid retention period for database 'big'. RetentionPeriod "
              "should at least '24h0m0s' hours")
        << bad;
  }
  st = Truncate(token, "nosuch", day);
  EXPECT_EQ(st.error_message(), "database does not exist");
  // A user without admin permission on the database.
  ASSERT_TRUE(CreateUser(token, "bob", 2, "big").ok());
  st = Truncate(Login("bob", "Secret1!"), "big", day);
  EXPECT_EQ(st.error_message(),
            "the database 'big' does not exist or you do not have admin permission on this "
            "database");

  // A valid request on a database with no tx that old: immudb's plain error,
  // and the data is untouched.
  const std::string db = UseDatabase(Login(), "big");
  ASSERT_TRUE(SetKey(db, "k", "v").ok());
  for (int64_t ok : {int64_t{0}, day}) {
    st = Truncate(token, "big", ok);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN) << ok;
    EXPECT_EQ(st.error_message(), "retention period has not been reached");
  }
  ASSERT_TRUE(CreateUser(token, "carol", 254, "big").ok());
  st = Truncate(Login("carol", "Secret1!"), "big", day);
  EXPECT_EQ(st.error_message(), "retention period has not been reached");
  schema::KeyRequest get;
  get.set_key("k");
  schema::Entry e;
  ASSERT_TRUE(stub_->Get(Ctx(db).get(), get, &e).ok());
  EXPECT_EQ(e.value(), "v");
}

// Truncation through the server: txs written three days ago (the database
// is unloaded and filled with an old clock), one written now.
TEST_F(DeprecatedRpcTest, TruncateDatabaseDiscardsOldValuesAndKeepsProofs) {
  const std::string token = Login();
  schema::DatabaseSettings s;
  s.set_databasename("old");
  ASSERT_TRUE(CreateWith(token, s).ok());
  {
    schema::UnloadDatabaseRequest req;
    req.set_database("old");
    schema::UnloadDatabaseResponse resp;
    ASSERT_TRUE(stub_->UnloadDatabase(Ctx(token).get(), req, &resp).ok());
  }
  {
    DatabaseOptions o;
    const int64_t then = static_cast<int64_t>(std::time(nullptr)) - 3 * 86400;
    auto clock = std::make_shared<int64_t>(then);
    o.store.now_unix_seconds = [clock] { return ++*clock; };
    auto d = Database::Open(dir_ + "/old", o);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    for (int i = 1; i <= 5; i++) {
      ASSERT_TRUE(
          (*d)->Set({KeyValue{"k" + std::to_string(i), "v" + std::to_string(i), {}}}, false).ok());
    }
    ASSERT_TRUE((*d)->Close().ok());
  }
  {
    schema::LoadDatabaseRequest req;
    req.set_database("old");
    schema::LoadDatabaseResponse resp;
    ASSERT_TRUE(stub_->LoadDatabase(Ctx(token).get(), req, &resp).ok());
  }
  const std::string db = UseDatabase(Login(), "old");
  ASSERT_TRUE(SetKey(db, "fresh", "now").ok());
  const int64_t day = int64_t{24} * 3600 * 1000;
  schema::TruncateDatabaseRequest req;
  req.set_database("old");
  req.set_retentionperiod(day);
  schema::TruncateDatabaseResponse resp;
  grpc::Status st = stub_->TruncateDatabase(Ctx(token).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.database(), "old");
  // The cut is tx 5, the last one before yesterday's midnight: txs 1-4 lose
  // their values.
  auto get = [&](const std::string& k, schema::Entry* e) {
    schema::KeyRequest kr;
    kr.set_key(k);
    return stub_->Get(Ctx(db).get(), kr, e);
  };
  schema::Entry e;
  for (int i = 1; i <= 4; i++) {
    st = get("k" + std::to_string(i), &e);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << i;
    EXPECT_NE(st.error_message().find(kValueTruncatedMessage), std::string::npos)
        << st.error_message();
  }
  ASSERT_TRUE(get("k5", &e).ok());
  EXPECT_EQ(e.value(), "v5");
  ASSERT_TRUE(get("fresh", &e).ok());
  // Scans leave the truncated keys out.
  schema::ScanRequest sr;
  schema::Entries entries;
  ASSERT_TRUE(stub_->Scan(Ctx(db).get(), sr, &entries).ok());
  ASSERT_EQ(entries.entries_size(), 2);
  EXPECT_EQ(entries.entries(0).key(), "fresh");
  EXPECT_EQ(entries.entries(1).key(), "k5");
  // Headers and proofs of truncated txs are still served.
  schema::VerifiableTxRequest vr;
  vr.set_tx(2);
  vr.set_provesincetx(6);
  schema::VerifiableTx vt;
  st = stub_->VerifiableTxById(Ctx(db).get(), vr, &vt);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(vt.tx().header().id(), 2u);
  // Truncating again with a longer retention does not move the point back.
  req.set_retentionperiod(2 * day);
  EXPECT_TRUE(stub_->TruncateDatabase(Ctx(token).get(), req, &resp).ok());
  EXPECT_FALSE(get("k4", &e).ok());
  ASSERT_TRUE(get("k5", &e).ok());
}

TEST_F(DeprecatedRpcTest, SqlTransactionsAndPrivilegesAreUnimplementedWithAMessage) {
  const std::string token = Login();
  auto expect_unimplemented = [](const grpc::Status& st, const std::string& what) {
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED) << what;
    EXPECT_NE(st.error_message().find("not supported by this server"), std::string::npos)
        << what << ": " << st.error_message();
  };
  schema::NewTxResponse ntx;
  expect_unimplemented(stub_->NewTx(Ctx(token).get(), schema::NewTxRequest(), &ntx), "NewTx");
  schema::CommittedSQLTx committed;
  expect_unimplemented(stub_->Commit(Ctx(token).get(), Empty(), &committed), "Commit");
  Empty out;
  expect_unimplemented(stub_->Rollback(Ctx(token).get(), Empty(), &out), "Rollback");
  expect_unimplemented(stub_->TxSQLExec(Ctx(token).get(), schema::SQLExecRequest(), &out),
                       "TxSQLExec");
  schema::ChangeSQLPrivilegesResponse priv;
  expect_unimplemented(
      stub_->ChangeSQLPrivileges(Ctx(token).get(), schema::ChangeSQLPrivilegesRequest(), &priv),
      "ChangeSQLPrivileges");
  auto ctx = Ctx(token);
  auto reader = stub_->TxSQLQuery(ctx.get(), schema::SQLQueryRequest());
  schema::SQLQueryResult row;
  EXPECT_FALSE(reader->Read(&row));
  expect_unimplemented(reader->Finish(), "TxSQLQuery");
}

// Every unary method of the service, called without credentials and with an
// empty request: none may answer with the generated default.
TEST_F(DeprecatedRpcTest, NoUnaryMethodAnswersWithTheGeneratedDefault) {
  const auto* service = schema::ImmuService::service_full_name();
  const auto* desc = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  ASSERT_NE(desc, nullptr);
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  grpc::TemplatedGenericStub<google::protobuf::Message, google::protobuf::Message> generic(
      channel_);
  int unary = 0;
  for (int i = 0; i < desc->method_count(); ++i) {
    const auto* m = desc->method(i);
    if (m->client_streaming() || m->server_streaming()) continue;
    ++unary;
    std::unique_ptr<google::protobuf::Message> req(factory->GetPrototype(m->input_type())->New());
    std::unique_ptr<google::protobuf::Message> resp(factory->GetPrototype(m->output_type())->New());
    grpc::ClientContext ctx;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/" + std::string(service) + "/" + m->name(), grpc::StubOptions(),
                      req.get(), resp.get(),
                      [&done](grpc::Status st) { done.set_value(std::move(st)); });
    const grpc::Status st = done.get_future().get();
    if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      EXPECT_FALSE(st.error_message().empty()) << m->name();
    }
  }
  EXPECT_GE(unary, 55);
}

TEST_F(DeprecatedRpcTest, RestRoutesOfTheV1CallsAndTruncate) {
  const std::string token = Login();
  auto res = Post("/api/db/createwith", R"({"databaseName":"restdb","maxKeyLen":300})", token);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body, "{}");
  res = Post("/api/db/createwith", R"({"databaseName":"restdb"})", token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(res->body.find("database already exists"), std::string::npos) << res->body;

  res = Post("/api/db/update", R"({"databaseName":"restdb","maxValueLen":2048})", token);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;

  const std::string db = UseDatabase(Login(), "restdb");
  res = Post("/api/db/settings", "{}", db);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  schema::DatabaseSettings got;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(res->body, &got).ok()) << res->body;
  EXPECT_EQ(got.databasename(), "restdb");
  EXPECT_EQ(got.maxkeylen(), 300u);
  EXPECT_EQ(got.maxvaluelen(), 2048u);

  res = Post("/api/db/truncate", R"({"database":"restdb","retentionPeriod":"86400000"})", token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500) << res->body;
  auto body = Json::Parse(res->body);
  ASSERT_TRUE(body.ok()) << res->body;
  EXPECT_EQ(*body->Find("code")->as_int(), 2);
  EXPECT_EQ(*body->Find("message")->as_string(), "retention period has not been reached");
  res = Post("/api/db/truncate", R"({"database":"restdb","retentionPeriod":"5"})", token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
}

}  // namespace
}  // namespace immudb::server
