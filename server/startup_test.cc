// build/bin/immudb as a process: --detached, the log file's place and the
// startup log lines.
#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "reflection_wire.pb.h"
#include "schema.grpc.pb.h"

namespace immudb::server {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string BinDir() {
  const char* env = std::getenv("IMMUDB_BIN_DIR");
  return env != nullptr ? env : IMMUDB_BIN_DIR;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A loopback port that was free a moment ago.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

bool Alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;
  // A zombie (exited, not yet reaped by its new parent) is not alive.
  const std::string stat = Read("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || stat.size() < paren + 3 || stat[paren + 2] != 'Z';
}

struct Launch {
  pid_t pid = -1;
  int exit_code = -1;  // -1: did not exit in time or was signalled.
  std::string out, err;
};

// Runs immudb with `args` (stdout and stderr to files in `dir`) and waits at
// most 60 s for it to exit.
Launch RunLauncher(const std::string& dir, std::vector<std::string> args,
                   const std::vector<std::string>& env = {}) {
  Launch l;
  args.insert(args.begin(), BinDir() + "/immudb");
  const std::string out = dir + "/launcher.out", err = dir + "/launcher.err";
  l.pid = fork();
  if (l.pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(e, 2);
    for (const std::string& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (waitpid(l.pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(l.pid, SIGKILL);
      waitpid(l.pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) l.exit_code = WEXITSTATUS(status);
  l.out = Read(out);
  l.err = Read(err);
  return l;
}

// Stops a detached server by PID: SIGTERM, then SIGKILL after 20 s.
void StopByPid(pid_t pid) {
  if (pid <= 0 || !Alive(pid)) return;
  kill(pid, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Alive(pid) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (Alive(pid)) kill(pid, SIGKILL);
}

// One request to the reflection service on `port` (`request`: a serialized
// ServerReflectionRequest); the first reply's bytes, or "" with *code set.
std::string ReflectionCall(int port, const std::string& request, grpc::StatusCode* code) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto step = [&cq](intptr_t want) {
    void* tag = nullptr;
    bool ok = false;
    return cq.Next(&tag, &ok) && reinterpret_cast<intptr_t>(tag) == want && ok;
  };
  std::string reply;
  call->StartCall(reinterpret_cast<void*>(1));
  if (step(1)) {
    grpc::Slice slice(request);
    grpc::ByteBuffer req(&slice, 1);
    call->Write(req, reinterpret_cast<void*>(2));
    if (step(2)) {
      call->WritesDone(reinterpret_cast<void*>(3));
      step(3);
      grpc::ByteBuffer resp;
      call->Read(&resp, reinterpret_cast<void*>(4));
      if (step(4)) {
        std::vector<grpc::Slice> slices;
        (void)resp.Dump(&slices);
        for (const grpc::Slice& s : slices) {
          reply.append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok) && reinterpret_cast<intptr_t>(tag) != 5) {
  }
  *code = status.error_code();
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return reply;
}

// Asks the reflection service on `port` for its list of services; the reply's
// bytes (the service names are in them as text), or "" with *code set.
std::string ListServices(int port, grpc::StatusCode* code) {
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  return ReflectionCall(port, std::string("\x3a\x00", 2), code);
}

std::string Scratch(const std::string& name) {
  const std::string d =
      ::testing::TempDir() + "/immudb_startup_" + name + "_" + std::to_string(getpid());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(StartupTest, DetachedServerRunsInTheBackground) {
  const std::string dir = Scratch("detached");
  const std::string pidfile = dir + "/immudb.pid";
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const Launch l = RunLauncher(
      dir, {"-d", "--pidfile", pidfile, "--port", std::to_string(port), "--address", "127.0.0.1",
            "--dir", dir + "/data", "--logfile", "immudb.log", "--metrics-server=false",
            "--web-server=false", "--pprof", "--session-timeout=2m"});
  const pid_t server = static_cast<pid_t>(std::atoi(Read(pidfile).c_str()));
  struct Guard {
    pid_t pid;
    ~Guard() { StopByPid(pid); }
  } guard{server};
  ASSERT_EQ(l.exit_code, 0) << l.out << l.err;
  ASSERT_GT(server, 0);
  EXPECT_NE(server, l.pid);
  EXPECT_NE(server, getpid());
  EXPECT_TRUE(Alive(server));
  EXPECT_NE(l.out.find("started with PID " + std::to_string(server)), std::string::npos) << l.out;

  // It answers on the port.
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = schema::ImmuService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  google::protobuf::Empty req;
  schema::HealthResponse resp;
  const grpc::Status st = stub->Health(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(resp.status());

  // gRPC reflection is on by default, as in immudb.
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  const std::string services = ListServices(port, &code);
  EXPECT_EQ(code, grpc::StatusCode::OK);
  EXPECT_NE(services.find("immudb.schema.ImmuService"), std::string::npos) << services;

  // The relative log file is under <dir>/immulog; it has the non-default
  // settings and one warning for the setting without effect.
  const std::string log = Read(dir + "/data/immulog/immudb.log");
  EXPECT_NE(log.find("listening on 127.0.0.1:" + std::to_string(port)), std::string::npos) << log;
  EXPECT_NE(log.find("setting detached=true (flag --detached)"), std::string::npos) << log;
  EXPECT_NE(log.find("setting logfile=immudb.log"), std::string::npos) << log;
  EXPECT_NE(log.find("pprof=true (flag --pprof) has no effect in this server"), std::string::npos)
      << log;
  EXPECT_EQ(log.find("session-timeout"), std::string::npos) << log;

  StopByPid(server);
  EXPECT_FALSE(Alive(server));
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (fs::exists(pidfile) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(pidfile));  // Removed by a clean stop.
  fs::remove_all(dir);
}

TEST(StartupTest, GrpcReflectionCanBeTurnedOff) {
  const std::string dir = Scratch("noreflection");
  const std::string pidfile = dir + "/immudb.pid";
  const int port = FreePort();
  const Launch l =
      RunLauncher(dir, {"-d", "--pidfile", pidfile, "--port", std::to_string(port), "--address",
                        "127.0.0.1", "--dir", dir + "/data", "--metrics-server=false",
                        "--web-server=false", "--grpc-reflection=false"});
  const pid_t server = static_cast<pid_t>(std::atoi(Read(pidfile).c_str()));
  ASSERT_EQ(l.exit_code, 0) << l.out << l.err;
  grpc::StatusCode code = grpc::StatusCode::OK;
  ListServices(port, &code);
  EXPECT_EQ(code, grpc::StatusCode::UNIMPLEMENTED);
  StopByPid(server);
  fs::remove_all(dir);
}

// Both dispatch modes serve the same reflection service: the same services
// listed, the same files for a symbol, the same error for an unknown one.
TEST(StartupTest, BothDispatchModesServeTheSameReflection) {
  struct Answers {
    std::set<std::string> services, symbol_files;
    int unknown_symbol_code = -1;
  };
  auto ask = [](const std::string& mode) {
    Answers a;
    const std::string dir = Scratch("reflection_" + mode);
    const std::string pidfile = dir + "/immudb.pid";
    const int port = FreePort();
    const Launch l =
        RunLauncher(dir, {"-d", "--pidfile", pidfile, "--port", std::to_string(port), "--address",
                          "127.0.0.1", "--dir", dir + "/data", "--metrics-server=false",
                          "--web-server=false", "--grpc-dispatch=" + mode});
    const pid_t server = static_cast<pid_t>(std::atoi(Read(pidfile).c_str()));
    EXPECT_EQ(l.exit_code, 0) << l.out << l.err;
    reflection_wire::ServerReflectionRequest req;
    reflection_wire::ServerReflectionResponse resp;
    grpc::StatusCode code = grpc::StatusCode::UNKNOWN;

    req.set_list_services("");
    EXPECT_TRUE(resp.ParseFromString(ReflectionCall(port, req.SerializeAsString(), &code)));
    EXPECT_EQ(code, grpc::StatusCode::OK) << mode;
    for (const auto& s : resp.list_services_response().service()) a.services.insert(s.name());

    req.set_file_containing_symbol("immudb.schema.ImmuService.Get");
    EXPECT_TRUE(resp.ParseFromString(ReflectionCall(port, req.SerializeAsString(), &code)));
    EXPECT_EQ(code, grpc::StatusCode::OK) << mode;
    for (const std::string& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      EXPECT_TRUE(file.ParseFromString(bytes));
      a.symbol_files.insert(file.name());
    }

    req.set_file_containing_symbol("no.such.Symbol");
    EXPECT_TRUE(resp.ParseFromString(ReflectionCall(port, req.SerializeAsString(), &code)));
    a.unknown_symbol_code = resp.error_response().error_code();
    StopByPid(server);
    fs::remove_all(dir);
    return a;
  };
  const Answers callback = ask("callback");
  const Answers queues = ask("queues");
  EXPECT_EQ(callback.services,
            (std::set<std::string>{"immudb.schema.ImmuService", "immudb.model.AuthorizationService",
                                   "grpc.reflection.v1alpha.ServerReflection"}));
  EXPECT_EQ(queues.services, callback.services);
  EXPECT_TRUE(callback.symbol_files.count("schema.proto")) << callback.symbol_files.size();
  EXPECT_EQ(queues.symbol_files, callback.symbol_files);
  EXPECT_EQ(callback.unknown_symbol_code, static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(queues.unknown_symbol_code, callback.unknown_symbol_code);
}

// The system calls the queue threads (immudb-grpc) of server `pid` are
// blocked in, once all are blocked (at most 10 s): "poll" for gRPC's poll
// engine, an epoll or futex wait for epoll1.
std::multiset<std::string> QueueThreadWaits(pid_t pid) {
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::multiset<std::string> waits;
  while (Clock::now() < deadline) {
    waits.clear();
    bool all_blocked = true;
    for (const auto& t : fs::directory_iterator(task)) {
      if (Read(t.path().string() + "/comm") != "immudb-grpc\n") continue;
      std::istringstream line(Read(t.path().string() + "/syscall"));
      std::string nr;
      line >> nr;
      if (nr.empty() || nr == "running") {
        all_blocked = false;
        continue;
      }
#if defined(__x86_64__)
      if (nr == "7" || nr == "271") {
        nr = "poll";
      } else if (nr == "232" || nr == "281" || nr == "441") {
        nr = "epoll";
      } else if (nr == "202") {
        nr = "futex";
      }
#endif
      waits.insert(nr);
    }
    if (all_blocked && !waits.empty()) return waits;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return waits;
}

// --grpc-poll-strategy reaches gRPC: by default (poll) the queue thread, and
// with two queues each thread, waits in poll(2) on its own connections; with
// epoll1 none does.
TEST(StartupTest, GrpcPollStrategyReachesGrpc) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "system call numbers of x86-64";
#endif
  auto waits = [](const std::vector<std::string>& extra) {
    const std::string dir = Scratch("poll_strategy");
    const std::string pidfile = dir + "/immudb.pid";
    const int port = FreePort();
    std::vector<std::string> args = {"-d",
                                     "--pidfile",
                                     pidfile,
                                     "--port",
                                     std::to_string(port),
                                     "--address",
                                     "127.0.0.1",
                                     "--dir",
                                     dir + "/data",
                                     "--metrics-server=false",
                                     "--web-server=false"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Launch l = RunLauncher(dir, args);
    const pid_t server = static_cast<pid_t>(std::atoi(Read(pidfile).c_str()));
    EXPECT_EQ(l.exit_code, 0) << l.out << l.err;
    grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
    ListServices(port, &code);  // Serving: the queue threads run.
    EXPECT_EQ(code, grpc::StatusCode::OK);
    std::multiset<std::string> w = QueueThreadWaits(server);
    StopByPid(server);
    fs::remove_all(dir);
    return w;
  };
  EXPECT_EQ(waits({}), (std::multiset<std::string>{"poll"}));
  EXPECT_EQ(waits({"--grpc-dispatch-threads=2"}), (std::multiset<std::string>{"poll", "poll"}));
  const std::multiset<std::string> epoll =
      waits({"--grpc-poll-strategy=epoll1", "--grpc-dispatch-threads=2"});
  EXPECT_EQ(epoll.size(), 2u);
  EXPECT_EQ(epoll.count("poll"), 0u);
}

TEST(StartupTest, DetachedStartupFailureIsReported) {
  const std::string dir = Scratch("detached_fail");
  const std::string pidfile = dir + "/immudb.pid";
  const Launch l =
      RunLauncher(dir, {"--detached", "--pidfile", pidfile, "--port", std::to_string(FreePort()),
                        "--address", "127.0.0.1", "--dir", dir + "/data", "--metrics-server=false",
                        "--web-server=false", "--signingKey", dir + "/no-such-key.pem"});
  EXPECT_EQ(l.exit_code, 1) << l.out << l.err;
  EXPECT_NE(l.err.find("no-such-key.pem"), std::string::npos) << l.err;
  EXPECT_FALSE(fs::exists(pidfile));
  // A configuration error is found before anything starts.
  const Launch bad = RunLauncher(dir, {"-d", "--port", "abc"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("port"), std::string::npos) << bad.err;
  fs::remove_all(dir);
}

TEST(StartupTest, LogLevelAndLogSegments) {
  const std::string dir = Scratch("loglevel");
  const std::string pidfile = dir + "/immudb.pid";
  const std::string logs = dir + "/logs";
  auto run = [&](const std::vector<std::string>& env) {
    const Launch l =
        RunLauncher(dir,
                    {"-d", "--pidfile", pidfile, "--port", "0", "--address", "127.0.0.1", "--dir",
                     dir + "/data", "--logfile", logs + "/immudb.log", "--log-rotation-size", "300",
                     "--metrics-server=false", "--web-server=false", "--pprof"},
                    env);
    StopByPid(static_cast<pid_t>(std::atoi(Read(pidfile).c_str())));
    return l;
  };
  // At warning level only the warning is written.
  const Launch quiet = run({"LOG_LEVEL=warning"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.out << quiet.err;
  const std::string first = Read(logs + "/immudb.log");
  EXPECT_NE(first.find("pprof=true"), std::string::npos) << first;
  EXPECT_EQ(first.find("listening on"), std::string::npos) << first;

  // At info level the startup lines fill more than one 300-byte segment; a
  // restart starts a new segment, named as immudb names them.
  const Launch loud = run({});
  ASSERT_EQ(loud.exit_code, 0) << loud.out << loud.err;
  EXPECT_EQ(Read(logs + "/immudb.log"), first);
  std::string all;
  int segments = 0;
  for (const auto& e : fs::directory_iterator(logs)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "immudb.log" || name.rfind("immudb.log.", 0) == 0) << name;
    const std::string text = Read(e.path().string());
    // A segment holds several lines only while they fit.
    if (text.find('\n') != text.rfind('\n')) {
      EXPECT_LE(text.size(), 300u) << name;
    }
    all += text;
    segments++;
  }
  EXPECT_GE(segments, 3);
  EXPECT_NE(all.find("listening on"), std::string::npos) << all;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace immudb::server
