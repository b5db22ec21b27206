// --no-histograms: /metrics without the RPC latency histogram.
#include <httplib.h>

#include "server/metrics.h"
#include "server/test_fixture.h"

namespace immudb::server {
namespace {

TEST(RpcMetricsTest, HistogramsOffKeepsTheCounters) {
  RpcMetrics m;
  m.set_histograms(false);
  m.Observe("/m", 0.3, 0);
  m.Observe("/m", 0.1, 5);
  std::string out;
  m.Render(&out);
  EXPECT_EQ(out.find("immudb_query_latency_seconds"), std::string::npos) << out;
  EXPECT_NE(out.find("grpc_server_handled_total{grpc_method=\"/m\",grpc_code=\"5\"} 1"),
            std::string::npos)
      << out;
}

class NoHistogramsTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->metrics_server = true;
    c->metrics_server_port = 0;
    c->no_histograms = true;
  }
};

TEST_F(NoHistogramsTest, MetricsPageHasNoLatencyHistogram) {
  const std::string token = Login();
  ASSERT_TRUE(SetKey(token, "a", "1").ok());
  httplib::Client cli("127.0.0.1", server_->metrics_port());
  cli.set_connection_timeout(5);
  cli.set_read_timeout(5);
  auto res = cli.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body.find("immudb_query_latency_seconds"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("grpc_server_handled_total{grpc_method=\"/immudb.schema.ImmuService/"
                           "Set\",grpc_code=\"0\"} 1"),
            std::string::npos)
      << res->body;
}

}  // namespace
}  // namespace immudb::server
