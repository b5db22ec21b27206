// The metrics port: Prometheus text, health endpoints, and garbage input.
#include "server/metrics.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using google::protobuf::Empty;

// Connects to 127.0.0.1:port, writes `bytes`, and closes.
void SendRaw(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  close(fd);
}

std::string Garbage() {
  std::string g;
  for (int i = 0; i < 4096; ++i) g += static_cast<char>((i * 131 + 7) & 0xff);
  return g;
}

class MetricsTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->metrics_server = true;
    c->metrics_server_port = 0;
  }
  httplib::Client Http() {
    httplib::Client cli("127.0.0.1", server_->metrics_port());
    cli.set_connection_timeout(5);
    cli.set_read_timeout(5);
    return cli;
  }
};

TEST_F(MetricsTest, HealthEndpoints) {
  ASSERT_GT(server_->metrics_port(), 0);
  auto cli = Http();
  for (const char* path : {"/readyz", "/livez", "/initz"}) {
    auto res = cli.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->body, "") << path;
  }
  auto v = cli.Get("/version");
  ASSERT_TRUE(v);
  EXPECT_NE(v->body.find("\"component\":\"immudb\""), std::string::npos);
  auto missing = cli.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(MetricsTest, ExposesDatabasesSessionsAndRpcLatencies) {
  const std::string token = Login();
  ASSERT_TRUE(SetKey(token, "a", "1").ok());
  ASSERT_TRUE(SetKey(token, "b", "2").ok());
  schema::KeyRequest get;
  get.set_key("missing");
  schema::Entry e;
  EXPECT_FALSE(stub_->Get(Ctx(token).get(), get, &e).ok());
  schema::OpenSessionRequest os;
  os.set_username("immudb");
  os.set_password("immudb");
  schema::OpenSessionResponse osr;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->OpenSession(&ctx, os, &osr).ok());

  auto res = Http().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  const std::string& body = res->body;
  auto has = [&](const std::string& line) {
    EXPECT_NE(body.find(line), std::string::npos) << line << "\n---\n" << body;
  };
  has("immudb_last_committed_trx_id{db=\"defaultdb\"} 2\n");
  has("immudb_index_lag_transactions{db=\"defaultdb\"} ");
  has("immudb_last_indexed_trx_id{db=\"defaultdb\"} ");
  has("immudb_active_sessions 1\n");
  has("immudb_loaded_databases 1\n");
  has("# TYPE immudb_query_latency_seconds histogram\n");
  has("immudb_query_latency_seconds_count{op=\"/immudb.schema.ImmuService/Set\"} 2\n");
  has("immudb_query_latency_seconds_bucket{op=\"/immudb.schema.ImmuService/Set\",le=\"+Inf\"} 2\n");
  has("grpc_server_handled_total{grpc_method=\"/immudb.schema.ImmuService/Get\",grpc_code=\"2\"} "
      "1");
  has("immudb_db_size_bytes{db=\"defaultdb\"} ");
  EXPECT_EQ(body.find("immudb_data_dir_size_bytes 0\n"), std::string::npos);
  has("immudb_data_dir_size_bytes ");
}

// An unloaded database is known but not open: not counted as loaded.
TEST_F(MetricsTest, LoadedDatabasesCountsOnlyOpenOnes) {
  const std::string token = Login();
  {
    schema::CreateDatabaseRequest req;
    req.set_name("metricsdb");
    schema::CreateDatabaseResponse resp;
    ASSERT_TRUE(stub_->CreateDatabaseV2(Ctx(token).get(), req, &resp).ok());
  }
  auto scrape = [&] {
    auto res = Http().Get("/metrics");
    EXPECT_TRUE(res);
    return res ? res->body : std::string();
  };
  EXPECT_NE(scrape().find("immudb_loaded_databases 2\n"), std::string::npos);
  {
    schema::UnloadDatabaseRequest req;
    req.set_database("metricsdb");
    schema::UnloadDatabaseResponse resp;
    grpc::Status st = stub_->UnloadDatabase(Ctx(token).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  const std::string body = scrape();
  EXPECT_NE(body.find("immudb_loaded_databases 1\n"), std::string::npos) << body;
  EXPECT_EQ(body.find("db=\"metricsdb\""), std::string::npos) << body;
}

TEST_F(MetricsTest, GarbageOnBothPortsLeavesTheServerServing) {
  SendRaw(server_->metrics_port(), Garbage());
  SendRaw(server_->metrics_port(), "GET /metrics HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nxx");
  SendRaw(server_->port(), Garbage());
  SendRaw(server_->port(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + Garbage());
  auto res = Http().Get("/livez");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  grpc::ClientContext ctx;
  schema::HealthResponse h;
  EXPECT_TRUE(stub_->Health(&ctx, Empty(), &h).ok());
  EXPECT_TRUE(SetKey(Login(), "still", "here").ok());
}

TEST_F(MetricsTest, ScrapesDuringConcurrentWritesAndSessions) {
  const std::string token = Login();
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(SetKey(token, "k" + std::to_string(t) + "_" + std::to_string(i), "v").ok());
        grpc::ClientContext ctx;
        schema::OpenSessionRequest os;
        os.set_username("immudb");
        os.set_password("immudb");
        schema::OpenSessionResponse osr;
        if (i % 5 == 0 && stub_->OpenSession(&ctx, os, &osr).ok()) {
          Empty out;
          EXPECT_TRUE(stub_->CloseSession(SessionCtx(osr.sessionid()).get(), Empty(), &out).ok());
        }
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    auto res = Http().Get("/metrics");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
  for (auto& w : writers) w.join();
  auto res = Http().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("immudb_last_committed_trx_id{db=\"defaultdb\"} 40\n"),
            std::string::npos);
  EXPECT_NE(res->body.find("immudb_active_sessions 0\n"), std::string::npos);
}

TEST_F(MetricsTest, StopRightAfterStartDoesNotHang) {
  RpcMetrics rpcs;
  for (int i = 0; i < 20; ++i) {
    MetricsServer m(nullptr, &rpcs);  // No request reaches the state.
    ASSERT_TRUE(m.Start("127.0.0.1", 0).ok());
    m.Stop();
  }
}

TEST(RpcMetricsTest, BucketsAreCumulative) {
  RpcMetrics m;
  m.Observe("/m", 0.0001, 0);
  m.Observe("/m", 0.3, 0);
  m.Observe("/m", 100, 2);
  std::string out;
  m.Render(&out);
  EXPECT_NE(out.find("immudb_query_latency_seconds_bucket{op=\"/m\",le=\"0.0005\"} 1"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("immudb_query_latency_seconds_bucket{op=\"/m\",le=\"0.5\"} 2"),
            std::string::npos);
  EXPECT_NE(out.find("immudb_query_latency_seconds_bucket{op=\"/m\",le=\"10\"} 2"),
            std::string::npos);
  EXPECT_NE(out.find("immudb_query_latency_seconds_bucket{op=\"/m\",le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(out.find("immudb_query_latency_seconds_count{op=\"/m\"} 3"), std::string::npos);
}

}  // namespace
}  // namespace immudb::server
