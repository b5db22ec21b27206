// ServerFixture: a Server on a free loopback port (127.0.0.1, port 0) with a
// fresh data directory per test, and a gRPC stub talking to it. Subclasses
// adjust the configuration by overriding Configure. Used by server/*_test.cc.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "schema.grpc.pb.h"
#include "server/server.h"

namespace immudb::server {

class ServerFixture : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "/immudb_server_test_" + std::to_string(getpid()) + "_" +
           testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    StartServer();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Called before every (re)start; the defaults are already set.
  virtual void Configure(ServerConfig*) {}

  // A server in `dir` on a free loopback port, without the metrics and web
  // servers (tests run in parallel: no fixed ports).
  static ServerConfig LoopbackConfig(const std::string& dir) {
    ServerConfig c;
    c.dir = dir;
    c.address = "127.0.0.1";
    c.port = 0;
    c.metrics_server = false;
    c.web_server = false;
    // The same tests against --grpc-dispatch=callback (a second CTest run of
    // server_tests sets it; the default is queues).
    if (const char* d = std::getenv("IMMUDB_GRPC_DISPATCH")) c.grpc_dispatch = d;
    return c;
  }

  void StartServer() {
    ServerConfig c = LoopbackConfig(dir_);
    Configure(&c);
    auto s = Server::Open(c);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_TRUE(server_->Start().ok());
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = schema::ImmuService::NewStub(channel_);
  }

  std::string Login(const std::string& user = "immudb", const std::string& pw = "immudb") {
    grpc::ClientContext ctx;
    schema::LoginRequest req;
    req.set_user(user);
    req.set_password(pw);
    schema::LoginResponse resp;
    grpc::Status st = stub_->Login(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.token();
  }

  // A client context carrying `token` as immudb-node sends it.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }

  // A client context carrying a session id.
  std::unique_ptr<grpc::ClientContext> SessionCtx(const std::string& session_id) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("sessionid", session_id);
    return ctx;
  }

  // Creates `user` with permission `perm` on `db`; returns the gRPC status.
  grpc::Status CreateUser(const std::string& token, const std::string& user, uint32_t perm,
                          const std::string& db, const std::string& password = "Secret1!") {
    schema::CreateUserRequest cu;
    cu.set_user(user);
    cu.set_password(password);
    cu.set_permission(perm);
    cu.set_database(db);
    google::protobuf::Empty out;
    return stub_->CreateUser(Ctx(token).get(), cu, &out);
  }

  // The token of a session on `db` (UseDatabase with `token`); "" on failure.
  std::string UseDatabase(const std::string& token, const std::string& db) {
    schema::Database req;
    req.set_databasename(db);
    schema::UseDatabaseReply resp;
    grpc::Status st = stub_->UseDatabase(Ctx(token).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.token();
  }

  // Sets key=value with `token`; returns the gRPC status.
  grpc::Status SetKey(const std::string& token, const std::string& key, const std::string& value) {
    return SetKey(Ctx(token).get(), key, value);
  }
  // The same, on a given context (a session's, SessionCtx).
  grpc::Status SetKey(grpc::ClientContext* ctx, const std::string& key, const std::string& value) {
    schema::SetRequest set;
    auto* kv = set.add_kvs();
    kv->set_key(key);
    kv->set_value(value);
    schema::TxHeader hdr;
    return stub_->Set(ctx, set, &hdr);
  }

  std::string dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<schema::ImmuService::Stub> stub_;
};

}  // namespace immudb::server
