// The HTTP ports under idle, slow and garbage connections
// (server/http_guard.h): the REST and metrics ports keep answering, slow
// clients are cut off at the deadlines, connections above the cap are
// refused at once, and memory stays bounded.
#include "server/http_guard.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "server/test_fixture.h"

namespace immudb::server {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// A TCP connection to 127.0.0.1:port (-1 on failure).
int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void Send(int fd, const std::string& bytes) {
  (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

// Reads until the peer closes or `timeout_ms` passes; returns what came and
// whether the peer closed.
std::string ReadUntilClosed(int fd, int timeout_ms, bool* closed) {
  std::string out;
  *closed = false;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (poll(&p, 1, std::max(left, 1)) <= 0) continue;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

int64_t VmRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

// A guarded server with short limits on a free loopback port.
class GuardedServerTest : public testing::Test {
 protected:
  void SetUp() override {
    limits_.max_connections = 4;
    limits_.idle_timeout = std::chrono::milliseconds(400);
    limits_.header_timeout = std::chrono::milliseconds(400);
    limits_.io_timeout = std::chrono::milliseconds(400);
  }
  void Start() {
    http_ = NewGuardedHttpServer(limits_);
    http_->Get("/hello", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    http_->Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
    Status st =
        ListenInBackground(http_.get(), "test server", "127.0.0.1", 0, &port_, &thread_, &ended_);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_GT(port_, 0);
    ASSERT_TRUE(http_->is_running());
  }
  void TearDown() override {
    if (thread_.joinable()) {
      http_->stop();
      thread_.join();
    }
  }
  httplib::Client Client() {
    httplib::Client cli("127.0.0.1", port_);
    cli.set_connection_timeout(2);
    cli.set_read_timeout(5);
    return cli;
  }

  HttpLimits limits_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> ended_{false};
  int port_ = 0;
};

TEST_F(GuardedServerTest, ServesRequestsWithKeepAlive) {
  Start();
  auto cli = Client();
  cli.set_keep_alive(true);
  for (int i = 0; i < 5; ++i) {
    auto res = cli.Get("/hello");
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "hello");
  }
  const std::string body(100000, 'b');
  auto echo = cli.Post("/echo", body, "text/plain");
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->body, body);
  // Two pipelined requests on one connection get two replies.
  const int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  Send(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  const std::string both = ReadUntilClosed(fd, 2000, &closed);
  close(fd);
  EXPECT_TRUE(closed);  // Idle afterwards: closed after idle_timeout.
  EXPECT_EQ(both.find("HTTP/1.1 200"), 0u) << both;
  EXPECT_NE(both.find("HTTP/1.1 200", 10), std::string::npos) << both;
}

TEST_F(GuardedServerTest, IdleAndTricklingConnectionsAreClosedAtTheirDeadlines) {
  Start();
  const int idle = Connect(port_);
  ASSERT_GE(idle, 0);
  auto t0 = Clock::now();
  bool closed = false;
  EXPECT_EQ(ReadUntilClosed(idle, 3000, &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_LT(MsSince(t0), 2000);
  close(idle);

  // One byte every 50 ms: each read is quick, the headers never end. The
  // connection is closed after header_timeout, not kept for ever.
  const int slow = Connect(port_);
  ASSERT_GE(slow, 0);
  t0 = Clock::now();
  const std::string request = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
  size_t sent = 0;
  closed = false;
  while (sent < request.size() && MsSince(t0) < 5000) {
    if (send(slow, &request[sent], 1, MSG_NOSIGNAL) != 1) break;
    ++sent;
    pollfd p{slow, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      char c;
      if (recv(slow, &c, 1, 0) <= 0) {
        closed = true;
        break;
      }
    }
  }
  if (!closed) ReadUntilClosed(slow, 2000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(sent, request.size());
  EXPECT_LT(MsSince(t0), 2500);
  close(slow);
}

TEST_F(GuardedServerTest, ConnectionsAboveTheCapAreRefusedAtOnce) {
  Start();
  std::vector<int> held;
  for (size_t i = 0; i < limits_.max_connections; ++i) {
    held.push_back(Connect(port_));
    ASSERT_GE(held.back(), 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // All admitted.
  const int extra = Connect(port_);
  ASSERT_GE(extra, 0);
  const auto t0 = Clock::now();
  bool closed = false;
  const std::string reply = ReadUntilClosed(extra, 3000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(MsSince(t0), 300) << "refused while the others still wait";
  if (!reply.empty()) {
    EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
  }
  close(extra);
  for (int fd : held) close(fd);
  // Once they are gone, requests are served again.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto res = Client().Get("/hello");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// cpp-httplib's backlog of 5 dropped handshakes of a burst (each costing
// its client a 1 s retransmission).
TEST_F(GuardedServerTest, ABurstOfConnectionsIsNotDropped) {
  Start();
  const auto t0 = Clock::now();
  std::vector<int> fds;
  for (int i = 0; i < 300; ++i) {
    fds.push_back(Connect(port_));
    ASSERT_GE(fds.back(), 0);
  }
  EXPECT_LT(MsSince(t0), 900);
  for (int fd : fds) close(fd);
}

TEST_F(GuardedServerTest, ListeningOnAPortInUseFailsAndLeavesNothingRunning) {
  // A listening socket without SO_REUSEPORT holds the port.
  const int holder = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  ASSERT_EQ(getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int taken = ntohs(addr.sin_port);

  http_ = NewGuardedHttpServer(limits_);
  port_ = -1;
  Status st =
      ListenInBackground(http_.get(), "test server", "127.0.0.1", taken, &port_, &thread_, &ended_);
  close(holder);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(st.message(), "test server: cannot listen on 127.0.0.1:" + std::to_string(taken));
  EXPECT_EQ(port_, 0);
  EXPECT_FALSE(thread_.joinable());
  EXPECT_FALSE(http_->is_running());
}

TEST_F(GuardedServerTest, StopIsNotDelayedByIdleConnections) {
  limits_.idle_timeout = std::chrono::seconds(30);
  limits_.header_timeout = std::chrono::seconds(30);
  Start();
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(Connect(port_));
  Send(fds[0], "GET /hello HTTP/1.1\r\nHo");  // Half a request.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = Clock::now();
  http_->stop();
  thread_.join();
  EXPECT_LT(MsSince(t0), 1500);
  for (int fd : fds) close(fd);
}

// The server's REST and metrics ports with many idle connections, half-sent
// requests and a slow trickler open: both still answer at once.
class PortStarvationTest : public ServerFixture {
 protected:
  void Configure(ServerConfig* c) override {
    c->web_server = true;
    c->web_server_port = 0;
    c->metrics_server = true;
    c->metrics_server_port = 0;
  }
};

TEST_F(PortStarvationTest, RestAndMetricsAnswerBesideIdleAndSlowConnections) {
  const int web = server_->web_port();
  const int metrics = server_->metrics_port();
  ASSERT_GT(web, 0);
  ASSERT_GT(metrics, 0);
  std::vector<int> fds;
  for (int port : {web, metrics}) {
    for (int i = 0; i < 64; ++i) {
      const int fd = Connect(port);
      ASSERT_GE(fd, 0);
      if (i % 2 == 0) Send(fd, "GET /api/health HTTP/1.1\r\nHost: x\r\n");  // No blank line.
      fds.push_back(fd);
    }
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> tricklers;
  for (int port : {web, metrics}) {
    tricklers.emplace_back([port, &stop] {
      const int fd = Connect(port);
      const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(500, 'p');
      for (size_t i = 0; i < req.size() && !stop; ++i) {
        if (send(fd, &req[i], 1, MSG_NOSIGNAL) != 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      close(fd);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  httplib::Client rest("127.0.0.1", web);
  rest.set_connection_timeout(2);
  rest.set_read_timeout(10);
  httplib::Client prom("127.0.0.1", metrics);
  prom.set_connection_timeout(2);
  prom.set_read_timeout(10);
  for (int round = 0; round < 3; ++round) {
    auto t0 = Clock::now();
    auto health = rest.Get("/api/health");
    ASSERT_TRUE(health) << round;
    EXPECT_EQ(health->status, 200);
    EXPECT_LT(MsSince(t0), 1500) << "REST, round " << round;
    t0 = Clock::now();
    auto page = prom.Get("/metrics");
    ASSERT_TRUE(page) << round;
    EXPECT_EQ(page->status, 200);
    EXPECT_NE(page->body.find("immudb_uptime_hours"), std::string::npos);
    EXPECT_LT(MsSince(t0), 1500) << "metrics, round " << round;
  }
  stop = true;
  for (auto& t : tricklers) t.join();
  for (int fd : fds) close(fd);
}

TEST_F(PortStarvationTest, GarbageConnectionsDoNotGrowMemoryWithoutBound) {
  const int web = server_->web_port();
  const int metrics = server_->metrics_port();
  auto hammer = [&](int rounds) {
    std::string junk;
    for (int i = 0; i < 3000; ++i) junk += static_cast<char>((i * 193 + 11) & 0xff);
    for (int i = 0; i < rounds; ++i) {
      const int fd = Connect(i % 2 == 0 ? web : metrics);
      if (fd < 0) continue;
      switch (i % 4) {
        case 0:
          Send(fd, junk);
          break;
        case 1:
          Send(fd, "POST /api/db/set HTTP/1.1\r\nContent-Length: 100000\r\n\r\n{\"KVs\":");
          break;
        case 2:
          Send(fd, "GET /metrics HTTP/1.1\r\nHost");
          break;
        default:
          break;  // Connect and go.
      }
      close(fd);
    }
  };
  hammer(500);  // Warm up: threads, buffers and allocator pools.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t before = VmRssKb();
  ASSERT_GT(before, 0);
  hammer(3000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t after = VmRssKb();
  EXPECT_LT(after - before, 64 * 1024) << before << " kB -> " << after << " kB";
  httplib::Client rest("127.0.0.1", web);
  rest.set_read_timeout(10);
  auto health = rest.Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace immudb::server
