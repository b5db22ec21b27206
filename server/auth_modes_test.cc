// Authentication off, --devmode and --maintenance (wire-api.md §5.6): local
// and remote callers, what maintenance mode lets through, UseDatabase
// without a login, and the configurations refused at startup.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include "server/errors.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

// A non-loopback IPv4 address of this host ("" when there is none): a
// client connecting to it is a remote caller for the server.
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf)) != nullptr) found = buf;
  }
  freeifaddrs(list);
  return found;
}

class AuthModeFixture : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->auth = false;
    c->address = "0.0.0.0";  // Reachable through a non-loopback address too.
    c->devmode = devmode_;
    c->maintenance = maintenance_;
  }
  // A stub that reaches the server through a non-loopback address; null
  // (test skipped by the caller) when the host has none.
  std::unique_ptr<schema::ImmuService::Stub> RemoteStub() {
    const std::string addr = NonLoopbackAddress();
    if (addr.empty()) return nullptr;
    return schema::ImmuService::NewStub(grpc::CreateChannel(
        addr + ":" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  grpc::Status Get(schema::ImmuService::Stub* stub, const std::string& key, std::string* value,
                   const std::string& token = "") {
    schema::KeyRequest req;
    req.set_key(key);
    schema::Entry e;
    grpc::Status st = stub->Get(Ctx(token).get(), req, &e);
    *value = e.value();
    return st;
  }
  grpc::Status Set(schema::ImmuService::Stub* stub, const std::string& key,
                   const std::string& value) {
    schema::SetRequest req;
    auto* kv = req.add_kvs();
    kv->set_key(key);
    kv->set_value(value);
    schema::TxHeader hdr;
    return stub->Set(Ctx("").get(), req, &hdr);
  }
  grpc::Status Use(schema::ImmuService::Stub* stub, const std::string& db, std::string* token) {
    schema::Database req;
    req.set_databasename(db);
    schema::UseDatabaseReply resp;
    grpc::Status st = stub->UseDatabase(Ctx("").get(), req, &resp);
    *token = resp.token();
    return st;
  }

  bool devmode_ = false;
  bool maintenance_ = false;
};

using AuthOffTest = AuthModeFixture;

TEST_F(AuthOffTest, LocalCallersNeedNoLoginAndRemoteOnesAreRefused) {
  ASSERT_TRUE(Set(stub_.get(), "k", "v").ok());
  std::string value;
  ASSERT_TRUE(Get(stub_.get(), "k", &value).ok());
  EXPECT_EQ(value, "v");

  grpc::ClientContext ctx;
  schema::LoginRequest login;
  login.set_user("immudb");
  login.set_password("immudb");
  schema::LoginResponse resp;
  EXPECT_EQ(stub_->Login(&ctx, login, &resp).error_message(), kErrAuthDisabledLogin);
  std::string token;
  EXPECT_EQ(Use(stub_.get(), "defaultdb", &token).error_message(),
            "this command is available only with authentication on");

  auto remote = RemoteStub();
  if (!remote) GTEST_SKIP() << "no non-loopback address to call from";
  grpc::Status st = Get(remote.get(), "k", &value);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message(),
            "server has authentication disabled: only local connections are accepted");
  st = Set(remote.get(), "k", "remote");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Get(stub_.get(), "k", &value).ok());
  EXPECT_EQ(value, "v");  // Nothing written.
}

class DevmodeTest : public AuthModeFixture {
 protected:
  void SetUp() override {
    devmode_ = true;
    AuthModeFixture::SetUp();
  }
};

TEST_F(DevmodeTest, RemoteCallersAreAccepted) {
  auto remote = RemoteStub();
  if (!remote) GTEST_SKIP() << "no non-loopback address to call from";
  ASSERT_TRUE(Set(remote.get(), "k", "from afar").ok());
  std::string value;
  ASSERT_TRUE(Get(remote.get(), "k", &value).ok());
  EXPECT_EQ(value, "from afar");
}

class MaintenanceTest : public AuthModeFixture {
 protected:
  // The data is written before the restart into maintenance mode.
  void SetUp() override {
    AuthModeFixture::SetUp();
    ASSERT_TRUE(Set(stub_.get(), "k", "before").ok());
    server_.reset();
    maintenance_ = true;
    StartServer();
  }
};

TEST_F(MaintenanceTest, ReadsNeedUseDatabaseWritesAreRefused) {
  // As immudb's getDBFromCtx: a call that is not a read is refused first;
  // a read without a database chosen with UseDatabase is an error (no
  // default database in maintenance mode).
  std::string value;
  grpc::Status st = Get(stub_.get(), "k", &value);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(st.error_message(), "please select database first");
  schema::ImmutableState state;
  EXPECT_EQ(stub_->CurrentState(Ctx("").get(), Empty(), &state).error_message(),
            "please select database first");
  st = Set(stub_.get(), "k", "during");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "operation not allowed in maintenance mode");

  // UseDatabase needs no login here; its token selects the database.
  std::string token;
  st = Use(stub_.get(), "defaultdb", &token);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(token.empty());
  ASSERT_TRUE(Get(stub_.get(), "k", &value, token).ok());
  EXPECT_EQ(value, "before");
  ASSERT_TRUE(stub_->CurrentState(Ctx(token).get(), Empty(), &state).ok());
  EXPECT_EQ(state.db(), "defaultdb");
  EXPECT_EQ(state.txid(), 1u);
  schema::Entries entries;
  ASSERT_TRUE(stub_->Scan(Ctx(token).get(), schema::ScanRequest(), &entries).ok());
  EXPECT_EQ(entries.entries_size(), 1);
  schema::KeyListRequest all;
  all.add_keys("k");
  ASSERT_TRUE(stub_->GetAll(Ctx(token).get(), all, &entries).ok());  // A maintenance read.
  EXPECT_EQ(entries.entries_size(), 1);

  // Writes and the reads immudb leaves out of maintenance mode are refused,
  // with or without a token.
  auto refused = [&](const grpc::Status& got) {
    EXPECT_EQ(got.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << got.error_message();
    EXPECT_EQ(got.error_message(), "operation not allowed in maintenance mode");
  };
  {
    refused(SetKey(token, "k", "during"));
    schema::TxHeader hdr;
    schema::ZAddRequest z;
    z.set_set("s");
    z.set_key("k");
    refused(stub_->ZAdd(Ctx(token).get(), z, &hdr));
    schema::DeleteKeysRequest del;
    del.add_keys("k");
    refused(stub_->Delete(Ctx(token).get(), del, &hdr));
    schema::DatabaseHealthResponse health;
    refused(stub_->DatabaseHealth(Ctx(token).get(), Empty(), &health));
  }
  schema::UpdateDatabaseRequest up;
  up.set_database("defaultdb");
  schema::UpdateDatabaseResponse up_resp;
  refused(stub_->UpdateDatabaseV2(Ctx("").get(), up, &up_resp));

  // systemdb may be selected too: the users are read there.
  std::string sys_token;
  ASSERT_TRUE(Use(stub_.get(), "systemdb", &sys_token).ok());
  ASSERT_TRUE(Get(stub_.get(), std::string("\x01") + "immudb", &value, sys_token).ok());
  EXPECT_NE(value.find("\"username\":\"immudb\""), std::string::npos) << value;

  st = Use(stub_.get(), "nosuch", &token);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(st.error_message(), "'nosuch' does not exist");

  // Nothing was written.
  ASSERT_TRUE(Use(stub_.get(), "defaultdb", &token).ok());
  ASSERT_TRUE(stub_->CurrentState(Ctx(token).get(), Empty(), &state).ok());
  EXPECT_EQ(state.txid(), 1u);

  // Remote callers are refused here too.
  auto remote = RemoteStub();
  if (!remote) GTEST_SKIP() << "no non-loopback address to call from";
  st = Use(remote.get(), "defaultdb", &token);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(remote.get(), "k", &value, token).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

class StartupRefusalTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override { c->auth = auth_; }
  bool auth_ = true;
};

TEST_F(StartupRefusalTest, AuthOffIsRefusedWithUserDatabasesOrUsers) {
  const std::string token = Login();
  ASSERT_TRUE(CreateUser(token, "someone", 1, "defaultdb").ok());
  server_.reset();

  ServerConfig c = LoopbackConfig(dir_);
  c.auth = false;
  auto refused = Server::Open(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().rfind("authentication must be on", 0), 0u)
      << refused.status().ToString();
  // With authentication on the same directory opens.
  c.auth = true;
  auto opened = Server::Open(c);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
}

TEST(StartupRefusalConfigTest, MaintenanceNeedsAuthOff) {
  auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), "immudb");
    const char* env[] = {nullptr};
    return ParseConfig(static_cast<int>(args.size()), args.data(), env);
  };
  auto refused = parse({"--maintenance"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "maintenance mode requires authentication to be disabled");
  EXPECT_TRUE(parse({"--maintenance", "--auth=false"}).ok());
}

}  // namespace
}  // namespace immudb::server
