// build/bin/immudb as a process: graceful shutdown on SIGTERM under load,
// --pidfile, --logfile and --logformat json, and startup refusals.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "schema.grpc.pb.h"
#include "server/json.h"
#include "server/process_test_util.h"

namespace immudb::server {
namespace {

using proc::ImmudbProcess;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/immudb_process_test_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::unique_ptr<schema::ImmuService::Stub> Stub(int port) {
    return schema::ImmuService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                            grpc::InsecureChannelCredentials()));
  }
  static std::string Login(schema::ImmuService::Stub* stub) {
    grpc::ClientContext ctx;
    schema::LoginRequest req;
    req.set_user("immudb");
    req.set_password("immudb");
    schema::LoginResponse resp;
    grpc::Status st = stub->Login(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.token();
  }

  std::string dir_;
};

// Several threads write while the server gets SIGTERM: every Set answered
// OK is there after a restart, the process exits 0 and removes its pidfile.
TEST_F(ProcessTest, SigtermKeepsEveryAcknowledgedSet) {
  const std::string pidfile = dir_ + "/immudb.pid";
  ImmudbProcess server(dir_, {"--pidfile", pidfile});
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  // Written once the server listens.
  for (int i = 0; i < 500 && proc::ReadWholeFile(pidfile).find('\n') == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(proc::ReadWholeFile(pidfile), std::to_string(server.pid()) + "\n");

  auto stub = Stub(server.port());
  const std::string token = Login(stub.get());
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 6; ++t) {
    writers.emplace_back([&, t] {
      auto own = Stub(server.port());  // A connection per writer.
      for (int i = 0; !stop && failures.load() < 1000; ++i) {
        const std::string key = "w" + std::to_string(t) + "-" + std::to_string(i);
        schema::SetRequest req;
        auto* kv = req.add_kvs();
        kv->set_key(key);
        kv->set_value("value of " + key);
        schema::TxHeader hdr;
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", token);
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        if (own->Set(&ctx, req, &hdr).ok()) {
          std::lock_guard<std::mutex> l(mu);
          acked.insert(key);
        } else {
          failures++;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      }
    });
  }
  // Let writes flow, then stop the server while they still do.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (acked.size() >= 200) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int code = server.Terminate();
  stop = true;
  for (auto& w : writers) w.join();
  EXPECT_EQ(code, 0) << server.Output();
  EXPECT_FALSE(std::filesystem::exists(pidfile));
  ASSERT_GE(acked.size(), 200u);

  ImmudbProcess again(dir_, {});
  ASSERT_TRUE(again.Start(&error)) << error;
  auto stub2 = Stub(again.port());
  const std::string token2 = Login(stub2.get());
  std::vector<std::string> keys(acked.begin(), acked.end());
  size_t missing = 0;
  for (size_t i = 0; i < keys.size(); i += 100) {
    schema::KeyListRequest req;
    for (size_t j = i; j < std::min(keys.size(), i + 100); ++j) req.add_keys(keys[j]);
    schema::Entries got;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", token2);
    ASSERT_TRUE(stub2->GetAll(&ctx, req, &got).ok());
    missing += static_cast<size_t>(req.keys_size() - got.entries_size());
    for (const auto& e : got.entries()) EXPECT_EQ(e.value(), "value of " + e.key());
  }
  EXPECT_EQ(missing, 0u) << "of " << keys.size() << " acknowledged sets";
  EXPECT_EQ(again.Terminate(), 0);
}

// The binary in maintenance mode (--maintenance --auth=false) on data
// written before: reads need a database chosen with UseDatabase (systemdb
// too), writes are refused and nothing is written.
TEST_F(ProcessTest, MaintenanceModeReadsAndRefusesWrites) {
  std::string error;
  auto call_ctx = [](const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) ctx->AddMetadata("authorization", token);
    return ctx;
  };
  schema::SetRequest set;
  auto* kv = set.add_kvs();
  kv->set_key("k");
  kv->set_value("before");
  schema::TxHeader hdr;
  {
    ImmudbProcess plain(dir_, {"--auth=false"});
    ASSERT_TRUE(plain.Start(&error)) << error;
    auto stub = Stub(plain.port());
    ASSERT_TRUE(stub->Set(call_ctx("").get(), set, &hdr).ok());
    stub.reset();  // No open connection to wait for at shutdown.
    EXPECT_EQ(plain.Terminate(), 0);
  }
  ImmudbProcess server(dir_, {"--auth=false", "--maintenance"});
  ASSERT_TRUE(server.Start(&error)) << error;
  auto stub = Stub(server.port());
  schema::KeyRequest get;
  get.set_key("k");
  schema::Entry e;
  EXPECT_EQ(stub->Get(call_ctx("").get(), get, &e).error_message(), "please select database first");
  schema::Database use;
  use.set_databasename("defaultdb");
  schema::UseDatabaseReply used;
  ASSERT_TRUE(stub->UseDatabase(call_ctx("").get(), use, &used).ok());
  const std::string token = used.token();
  ASSERT_TRUE(stub->Get(call_ctx(token).get(), get, &e).ok());
  EXPECT_EQ(e.value(), "before");
  set.mutable_kvs(0)->set_value("during");
  grpc::Status st = stub->Set(call_ctx(token).get(), set, &hdr);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "operation not allowed in maintenance mode");
  schema::ImmutableState state;
  ASSERT_TRUE(stub->CurrentState(call_ctx(token).get(), google::protobuf::Empty(), &state).ok());
  EXPECT_EQ(state.txid(), 1u);

  use.set_databasename("systemdb");
  ASSERT_TRUE(stub->UseDatabase(call_ctx("").get(), use, &used).ok());
  get.set_key(std::string("\x01") + "immudb");
  ASSERT_TRUE(stub->Get(call_ctx(used.token()).get(), get, &e).ok());
  EXPECT_NE(e.value().find("\"username\":\"immudb\""), std::string::npos) << e.value();
  stub.reset();
  EXPECT_EQ(server.Terminate(), 0);
}

// --logfile gets the log (nothing on stdout); with --logformat json every
// line is one JSON object, also for messages with quotes and newlines (the
// data directory's name here).
TEST_F(ProcessTest, JsonLogFileHasOneValidObjectPerLine) {
  const std::string data = dir_ + "/odd \"name\"\nwith\\newline";
  const std::string log = dir_ + "/immudb.log";
  ImmudbProcess server(dir_, {"--dir", data, "--logfile", log, "--logformat", "json"}, log);
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  EXPECT_EQ(server.Terminate(), 0);
  EXPECT_EQ(server.Output(), "");
  const std::string text = proc::ReadWholeFile(log);
  std::istringstream lines(text);
  std::string line;
  int parsed = 0;
  bool saw_dir = false;
  while (std::getline(lines, line)) {
    auto j = Json::Parse(line);
    ASSERT_TRUE(j.ok()) << j.status().ToString() << ": " << line;
    for (const char* key : {"level", "message", "module", "timestamp"}) {
      ASSERT_TRUE(j->Find(key) && j->Find(key)->as_string()) << key << " in " << line;
    }
    EXPECT_EQ(*j->Find("module")->as_string(), "immudb");
    saw_dir |= j->Find("message")->as_string()->find(data) != std::string::npos;
    ++parsed;
  }
  EXPECT_GE(parsed, 3);
  EXPECT_TRUE(saw_dir) << text;
}

// A text log file; its startup lines name the allocator: jemalloc in the
// builds that link it (all but the sanitizer builds), the C library's malloc
// otherwise.
TEST_F(ProcessTest, TextLogFileAndRefusedStartups) {
  const std::string log = dir_ + "/text.log";
  ImmudbProcess server(dir_, {"--logfile", log}, log);
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  EXPECT_EQ(server.Terminate(), 0);
  const std::string text = proc::ReadWholeFile(log);
  EXPECT_NE(text.find("immudb stopped"), std::string::npos) << text;
#ifdef IMMUDB_SERVER_JEMALLOC
  EXPECT_NE(text.find("memory allocator: jemalloc 5."), std::string::npos) << text;
#else
  EXPECT_NE(text.find("memory allocator: glibc malloc"), std::string::npos) << text;
#endif

  // Refused before anything starts: exit code 2 and the reason.
  struct Bad {
    std::vector<std::string> args;
    const char* text;
  };
  const Bad bad[] = {
      {{"--maintenance"}, "maintenance mode requires authentication to be disabled"},
      {{"--admin-password", ""}, "Admin password cannot be empty"},
      {{"--logformat", "xml"}, "invalid value \"xml\" for logformat"},
  };
  for (const Bad& b : bad) {
    ImmudbProcess p(dir_ + "/bad", b.args);
    ASSERT_TRUE(p.Start(&error, false));
    ASSERT_TRUE(p.Exited(30));
    EXPECT_EQ(p.exit_code(), 2) << b.text;
    EXPECT_NE(p.Output().find(b.text), std::string::npos) << p.Output();
  }
  // A bad enc: password is refused at startup (exit code 1).
  ImmudbProcess enc(dir_ + "/enc", {"--admin-password", "enc:***"});
  ASSERT_TRUE(enc.Start(&error, false));
  ASSERT_TRUE(enc.Exited(30));
  EXPECT_EQ(enc.exit_code(), 1);
  EXPECT_NE(enc.Output().find("invalid base64"), std::string::npos) << enc.Output();
}

}  // namespace
}  // namespace immudb::server
