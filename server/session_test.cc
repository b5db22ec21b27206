// Sessions: OpenSession/KeepAlive/CloseSession on both services, sessionid
// precedence, timeout guard, max sessions, and invalidation on user changes.
#include <thread>

#include "authorization.grpc.pb.h"
#include "server/sessions.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

class SessionTest : public ServerFixture {
 protected:
  // Long enough that no session expires during a test on a busy machine
  // (logins hash passwords); the expiry test shortens it.
  virtual int64_t SessionTimeoutMs() const { return 60000; }
  void Configure(ServerConfig* c) override {
    c->max_sessions = 3;
    c->session_timeout_ms = SessionTimeoutMs();
    c->sessions_guard_check_interval_ms = 50;
  }

  grpc::Status Open(const std::string& user, const std::string& pw, const std::string& db,
                    std::string* id) {
    grpc::ClientContext ctx;
    schema::OpenSessionRequest req;
    req.set_username(user);
    req.set_password(pw);
    req.set_databasename(db);
    schema::OpenSessionResponse resp;
    grpc::Status st = stub_->OpenSession(&ctx, req, &resp);
    if (st.ok()) {
      EXPECT_EQ(resp.serveruuid(), server_->uuid());
      *id = resp.sessionid();
    }
    return st;
  }

  grpc::Status State(std::unique_ptr<grpc::ClientContext> ctx, schema::ImmutableState* st) {
    return stub_->CurrentState(ctx.get(), Empty(), st);
  }
};

TEST_F(SessionTest, OpenUseKeepAliveClose) {
  std::string id;
  ASSERT_TRUE(Open("immudb", "immudb", "DefaultDB", &id).ok());
  EXPECT_EQ(id.size(), 44u);  // base64 of 32 bytes, padded.
  EXPECT_EQ(id.back(), '=');
  EXPECT_EQ(id.find_first_of("+/"), std::string::npos);

  schema::ImmutableState st;
  ASSERT_TRUE(State(SessionCtx(id), &st).ok());
  EXPECT_EQ(st.db(), "defaultdb");
  Empty out;
  EXPECT_TRUE(stub_->KeepAlive(SessionCtx(id).get(), Empty(), &out).ok());
  EXPECT_TRUE(stub_->CloseSession(SessionCtx(id).get(), Empty(), &out).ok());

  grpc::Status s = State(SessionCtx(id), &st);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "session not found");
  EXPECT_EQ(stub_->KeepAlive(SessionCtx(id).get(), Empty(), &out).error_message(),
            "session not found");
  EXPECT_EQ(stub_->CloseSession(SessionCtx(id).get(), Empty(), &out).error_message(),
            "session not found");
}

TEST_F(SessionTest, OpenSessionErrors) {
  std::string id;
  EXPECT_EQ(Open("immudb", "wrong", "defaultdb", &id).error_message(),
            "invalid user name or password");
  EXPECT_EQ(Open("nobody", "x", "defaultdb", &id).error_message(), "invalid user name or password");
  grpc::Status st = Open("immudb", "immudb", "nodb", &id);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SessionTest, SessionIdTakesPrecedenceOverToken) {
  std::string id;
  ASSERT_TRUE(Open("immudb", "immudb", "defaultdb", &id).ok());
  auto ctx = Ctx("garbage-token");
  ctx->AddMetadata("sessionid", id);
  schema::ImmutableState st;
  EXPECT_TRUE(State(std::move(ctx), &st).ok());
  // And a bad session id is not rescued by a good token.
  auto ctx2 = Ctx(Login());
  ctx2->AddMetadata("sessionid", "unknown");
  EXPECT_EQ(State(std::move(ctx2), &st).error_message(), "session not found");
}

// A session's calls get the permission checks of its user on the session's
// database: a read-only user reads and is refused writes, a read-write user
// writes.
TEST_F(SessionTest, SessionCallsCheckTheUsersPermission) {
  const std::string admin = Login();
  ASSERT_TRUE(CreateUser(admin, "reader", 1, "defaultdb").ok());
  ASSERT_TRUE(CreateUser(admin, "writer", 2, "defaultdb").ok());
  schema::SetRequest set;
  auto* kv = set.add_kvs();
  kv->set_key("k");
  kv->set_value("v");
  schema::TxHeader hdr;
  schema::ImmutableState st;

  std::string reader;
  ASSERT_TRUE(Open("reader", "Secret1!", "defaultdb", &reader).ok());
  EXPECT_TRUE(State(SessionCtx(reader), &st).ok());
  grpc::Status s = stub_->Set(SessionCtx(reader).get(), set, &hdr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(s.error_message(), "permission denied");

  std::string writer;
  ASSERT_TRUE(Open("writer", "Secret1!", "defaultdb", &writer).ok());
  ASSERT_TRUE(stub_->Set(SessionCtx(writer).get(), set, &hdr).ok());
  EXPECT_GT(hdr.id(), 0u);
}

TEST_F(SessionTest, MaxSessions) {
  std::string id;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Open("immudb", "immudb", "", &id).ok());
  grpc::Status st = Open("immudb", "immudb", "", &id);
  EXPECT_EQ(st.error_message(), "can not create new session: max sessions number reached");
  Empty out;
  ASSERT_TRUE(stub_->CloseSession(SessionCtx(id).get(), Empty(), &out).ok());
  EXPECT_TRUE(Open("immudb", "immudb", "", &id).ok());
}

class SessionExpiryTest : public SessionTest {
 protected:
  int64_t SessionTimeoutMs() const override { return 700; }
};

TEST_F(SessionExpiryTest, IdleSessionsAreClosedAndActiveOnesKept) {
  std::string idle, active;
  ASSERT_TRUE(Open("immudb", "immudb", "", &idle).ok());
  ASSERT_TRUE(Open("immudb", "immudb", "", &active).ok());
  Empty out;
  for (int i = 0; i < 12; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(stub_->KeepAlive(SessionCtx(active).get(), Empty(), &out).ok()) << i;
  }
  schema::ImmutableState st;
  EXPECT_EQ(State(SessionCtx(idle), &st).error_message(), "session not found");
  EXPECT_TRUE(State(SessionCtx(active), &st).ok());
}

TEST_F(SessionTest, UserChangesInvalidateSessionsAndTokens) {
  const std::string admin = Login();
  ASSERT_TRUE(CreateUser(admin, "alice", 2, "defaultdb").ok());
  Empty out;
  schema::ImmutableState st;

  auto open_both = [&](std::string* id, std::string* token) {
    ASSERT_TRUE(Open("alice", "Secret1!", "defaultdb", id).ok());
    *token = Login("alice", "Secret1!");
    ASSERT_TRUE(State(SessionCtx(*id), &st).ok());
    ASSERT_TRUE(State(Ctx(*token), &st).ok());
  };
  auto expect_gone = [&](const std::string& id, const std::string& token) {
    EXPECT_EQ(State(SessionCtx(id), &st).error_message(), "session not found");
    EXPECT_EQ(State(Ctx(token), &st).error_message(), "not logged in");
  };
  std::string id, token;

  open_both(&id, &token);
  schema::ChangePermissionRequest cp;
  cp.set_action(schema::GRANT);
  cp.set_username("alice");
  cp.set_database("defaultdb");
  cp.set_permission(1);
  ASSERT_TRUE(stub_->ChangePermission(Ctx(admin).get(), cp, &out).ok());
  expect_gone(id, token);

  open_both(&id, &token);
  schema::ChangePasswordRequest pw;
  pw.set_user("alice");
  pw.set_newpassword("Secret2!");
  ASSERT_TRUE(stub_->ChangePassword(Ctx(admin).get(), pw, &out).ok());
  expect_gone(id, token);

  ASSERT_TRUE(Open("alice", "Secret2!", "defaultdb", &id).ok());
  token = Login("alice", "Secret2!");
  schema::SetActiveUserRequest sa;
  sa.set_username("alice");
  sa.set_active(false);
  ASSERT_TRUE(stub_->SetActiveUser(Ctx(admin).get(), sa, &out).ok());
  expect_gone(id, token);
  EXPECT_EQ(Open("alice", "Secret2!", "defaultdb", &id).error_message(), "user is not active");
}

TEST_F(SessionTest, AuthorizationService) {
  auto auth = model::AuthorizationService::NewStub(channel_);
  model::OpenSessionRequest req;
  req.set_username("immudb");
  req.set_password("immudb");
  req.set_database("defaultdb");
  model::OpenSessionResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(auth->OpenSession(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.serveruuid(), server_->uuid());
  EXPECT_GT(resp.inactivitytimestamp(), 0);
  EXPECT_EQ(resp.expirationtimestamp(), 0);  // No max age configured.

  model::KeepAliveResponse ka;
  EXPECT_TRUE(auth->KeepAlive(SessionCtx(resp.sessionid()).get(), {}, &ka).ok());
  schema::ImmutableState st;
  EXPECT_TRUE(State(SessionCtx(resp.sessionid()), &st).ok());
  model::CloseSessionResponse cs;
  EXPECT_TRUE(auth->CloseSession(SessionCtx(resp.sessionid()).get(), {}, &cs).ok());
  EXPECT_EQ(State(SessionCtx(resp.sessionid()), &st).error_message(), "session not found");
}

TEST(SessionManagerTest, MaxAgeClosesEvenActiveSessions) {
  SessionOptions o;
  o.timeout = std::chrono::milliseconds(10000);
  o.max_age = std::chrono::milliseconds(100);
  o.guard_interval = std::chrono::milliseconds(10000);
  SessionManager m(o);
  auto id = m.Open("u", "defaultdb");
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(m.Touch(*id).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(m.CloseExpired(), 1u);
  EXPECT_FALSE(m.Touch(*id).ok());
  EXPECT_EQ(m.Count(), 0u);
}

}  // namespace
}  // namespace immudb::server
