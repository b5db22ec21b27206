// immudb-load's HTTP/2 client (bench/h2_load.h) against a real build/bin/immudb
// child on a free loopback port: what it writes is read back through gRPC's
// own client, verifiable replies verify, server errors are counted by their
// gRPC code, and the immudb-load binary runs with --api h2.
#include "bench/h2_load.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server_process.h"
#include "testutil/test_util.h"

namespace immudb::bench {
namespace {

using client::testing::BinDir;
using client::testing::RunShell;
using client::testing::ServerProcess;

class H2LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("h2_load_test");
    server_ = std::make_unique<ServerProcess>(dir_ + "/s");
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    channel_ = grpc::CreateChannel(server_->target(), grpc::InsecureChannelCredentials());
    stub_ = schema::ImmuService::NewStub(channel_);
    schema::LoginRequest req;
    req.set_user("immudb");
    req.set_password("immudb");
    schema::LoginResponse reply;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Login(&ctx, req, &reply).ok());
    token_ = reply.token();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  LoadConfig Config(Workload w, std::string token) const {
    LoadConfig cfg;
    cfg.workload = w;
    cfg.token = std::move(token);
    cfg.verify = true;
    cfg.keys = 1000;
    return cfg;
  }

  // Runs `clients` workers of `cfg` over HTTP/2 for `calls` calls in total.
  std::vector<std::unique_ptr<LoadWorker>> Run(const LoadConfig& cfg, int clients, uint64_t calls) {
    ctl_ = std::make_unique<LoadControl>();
    ctl_->max_ops = calls;
    std::vector<std::unique_ptr<LoadWorker>> workers;
    std::vector<LoadWorker*> raw;
    for (int i = 0; i < clients; i++) {
      workers.push_back(std::make_unique<LoadWorker>(cfg, ctl_.get(), channel_, 7 + i));
      EXPECT_EQ(workers.back()->Prepare(), "");
      raw.push_back(workers.back().get());
    }
    H2Target target;
    target.port = server_->port();
    target.token = cfg.token;
    target.timeout = std::chrono::seconds(10);
    EXPECT_EQ(RunH2(target, raw), "");
    return workers;
  }

  grpc::Status GrpcGet(const std::string& key, schema::Entry* entry) {
    schema::KeyRequest req;
    req.set_key(key);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token_);
    return stub_->Get(&ctx, req, entry);
  }

  static uint64_t Ok(const std::vector<std::unique_ptr<LoadWorker>>& workers) {
    uint64_t n = 0;
    for (const auto& w : workers) n += w->histogram().count();
    return n;
  }
  static uint64_t Failed(const std::vector<std::unique_ptr<LoadWorker>>& workers, int code) {
    uint64_t n = 0;
    for (const auto& w : workers) {
      auto it = w->errors().find(code);
      if (it != w->errors().end()) n += it->second.count;
    }
    return n;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<schema::ImmuService::Stub> stub_;
  std::string token_;
  std::unique_ptr<LoadControl> ctl_;
};

TEST_F(H2LoadTest, SetIsReadBackThroughGrpc) {
  auto workers = Run(Config(Workload::kSet, token_), 3, 30);
  EXPECT_EQ(Ok(workers), 30u);
  for (const auto& w : workers) EXPECT_TRUE(w->errors().empty());
  // Every key the run wrote, and exactly the last value each client sent.
  for (uint64_t k = 0; k < 30; k++) {
    schema::Entry e;
    ASSERT_TRUE(GrpcGet(LoadKey(k, 16), &e).ok()) << k;
    EXPECT_EQ(e.value().size(), 100u);
    EXPECT_GT(e.tx(), 0u);
  }
  for (const auto& w : workers) {
    const schema::KeyValue& kv = w->last_set_request().kvs(0);
    schema::Entry e;
    ASSERT_TRUE(GrpcGet(kv.key(), &e).ok());
    EXPECT_EQ(e.value(), kv.value());
  }
  schema::Entry e;
  EXPECT_FALSE(GrpcGet(LoadKey(30, 16), &e).ok());

  // Get over HTTP/2 returns what gRPC's client reads.
  auto small = Config(Workload::kGet, token_);
  small.keys = 30;
  auto readers = Run(small, 2, 40);
  EXPECT_EQ(Ok(readers), 40u);
  for (const auto& r : readers) {
    ASSERT_TRUE(GrpcGet(r->last_get_request().key(), &e).ok());
    EXPECT_EQ(r->last_get_reply().value(), e.value());
    EXPECT_EQ(r->last_get_reply().tx(), e.tx());
  }
}

TEST_F(H2LoadTest, VerifiableCallsVerify) {
  auto writers = Run(Config(Workload::kVerifiableSet, token_), 2, 20);
  EXPECT_EQ(Ok(writers), 20u);
  for (const auto& w : writers) EXPECT_TRUE(w->errors().empty());
  auto cfg = Config(Workload::kVerifiableGet, token_);
  cfg.keys = 20;
  auto readers = Run(cfg, 2, 20);
  EXPECT_EQ(Ok(readers), 20u);
  for (const auto& r : readers) EXPECT_TRUE(r->errors().empty());
}

TEST_F(H2LoadTest, ErrorsAreCountedByCode) {
  // A missing key: the code and message gRPC's client sees.
  schema::Entry e;
  const grpc::Status missing = GrpcGet(LoadKey(5, 16), &e);
  ASSERT_FALSE(missing.ok());
  auto readers = Run(Config(Workload::kGet, token_), 2, 10);
  EXPECT_EQ(Ok(readers), 0u);
  EXPECT_EQ(Failed(readers, missing.error_code()), 10u);
  EXPECT_EQ(readers[0]->errors().at(missing.error_code()).first_message, missing.error_message());

  // A token the server does not know: what gRPC's client sees for it.
  schema::SetRequest set;
  schema::KeyValue* kv = set.add_kvs();
  kv->set_key("k");
  kv->set_value("v");
  schema::TxHeader header;
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer immt.unknown");
  const grpc::Status refused = stub_->Set(&ctx, set, &header);
  ASSERT_FALSE(refused.ok());
  auto writers = Run(Config(Workload::kSet, "immt.unknown"), 2, 10);
  EXPECT_EQ(Ok(writers), 0u);
  EXPECT_EQ(Failed(writers, refused.error_code()), 10u);
  EXPECT_EQ(writers[0]->errors().at(refused.error_code()).first_message, refused.error_message());
  EXPECT_FALSE(GrpcGet(LoadKey(0, 16), &e).ok());  // Nothing was written.

  // No server on the port: the run reports why.
  LoadControl ctl;
  LoadWorker w(Config(Workload::kSet, token_), &ctl, channel_, 1);
  H2Target target;
  target.port = server_->port();
  server_->Stop();
  EXPECT_NE(RunH2(target, {&w}), "");
}

TEST_F(H2LoadTest, LoadToolRunsWithH2) {
  const std::string tool = BinDir() + "/immudb-load --api h2 --port " +
                           std::to_string(server_->port()) + " --format kv --keys 100";
  int code = -1;
  std::string out = RunShell(tool + " --workload get --clients 4 --num 200 2>&1", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(" api=h2 "), std::string::npos) << out;
  EXPECT_NE(out.find(" ops=200 errors=0 "), std::string::npos) << out;
  out = RunShell(tool + " --workload verifiableset --verify --clients 3 --num 60 2>&1", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(" ops=60 errors=0 "), std::string::npos) << out;
  // Polling before each sleep changes nothing in what the calls do.
  out = RunShell(tool + " --workload get --clients 4 --num 200 --poll-us 50 2>&1", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(" ops=200 errors=0 "), std::string::npos) << out;
  out = RunShell(BinDir() + "/immudb-load --api cq --poll-us 50 --port " +
                     std::to_string(server_->port()) + " 2>&1",
                 &code);
  EXPECT_EQ(code, 2) << out;  // --poll-us is for --api h2.
  // A wrong password fails the login that comes before the run.
  out = RunShell(tool + " --workload set --num 5 --password wrong 2>&1", &code);
  EXPECT_EQ(code, 2) << out;
}

}  // namespace
}  // namespace immudb::bench
