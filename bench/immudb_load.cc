// immudb-load: a gRPC load generator against a running immudb (or the echo
// server, bench/echo_server.cc) on the loopback interface. It logs in, then
// runs one workload (bench/load_worker.h) from --clients concurrent clients
// (each one call in flight at a time; driven by one thread draining a gRPC
// completion queue, or --threads such threads; with --api callback by gRPC's
// callback API, with --api sync by one blocking thread each; with --api h2 by
// one thread that speaks gRPC's HTTP/2 protocol through libnghttp2 over a
// connection per client, bench/h2_load.h), bounded by
// --duration seconds and/or --num calls, and
// prints calls/s, p50/p99/p99.9 latency, errors by gRPC code and, with
// --server-pid, the server's resident memory (VmRSS, VmHWM) and its CPU time
// and thread context switches per call.
//
// Exit status: 0 when every call succeeded, 1 when some failed or none ran,
// 2 on bad arguments or when the server cannot be reached.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <latch>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/cli_flags.h"
#include "bench/h2_load.h"
#include "bench/histogram.h"
#include "bench/load_worker.h"
#include "grpc_runtime.h"
#include "schema.grpc.pb.h"

namespace immudb::bench {
namespace {

struct Options {
  std::string address = "127.0.0.1";
  int port = 3322;
  std::string user = "immudb";
  std::string password = "immudb";
  std::string database;
  std::string workload = "set";
  int clients = 1;
  std::string channels = "per-client";
  std::string api = "cq";
  int threads = 1;
  double duration = 0;
  uint64_t num = 0;
  uint64_t keys = 10000;
  int key_size = 16;
  int value_size = 100;
  bool verify = false;
  double timeout = 10;
  int poll_us = 0;
  int server_pid = 0;
  std::string format = "text";
};

const std::map<std::string, Workload> kWorkloads = {{"set", Workload::kSet},
                                                    {"get", Workload::kGet},
                                                    {"verifiableget", Workload::kVerifiableGet},
                                                    {"verifiableset", Workload::kVerifiableSet}};

// What one run measured.
struct Report {
  uint64_t ok = 0;
  uint64_t errors = 0;
  double seconds = 0;
  LatencyHistogram hist;
  std::map<int, LoadWorker::ErrorCount> by_code;
  long rss_kib = -1;
  long hwm_kib = -1;
  double client_cpu_s = 0;
  // --server-pid: the server's CPU time and thread context switches during
  // the run, per successful call (-1: not measured).
  double server_cpu_us_per_op = -1;
  double server_cs_per_op = -1;
};

[[noreturn]] void Fail(const std::string& msg) {
  std::fprintf(stderr, "immudb-load: %s\n", msg.c_str());
  std::exit(2);
}

// A field of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 when unreadable.
long ProcStatusKib(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

// User + system CPU seconds of process `pid` (all its threads); -1 when unreadable.
double ProcCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; i++) {
    if (i == 14) utime = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(f.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Voluntary + involuntary context switches of the live threads of `pid`.
long long ProcContextSwitches(int pid) {
  long long total = 0;
  std::error_code ec;
  for (const auto& t :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("ctxt_switches:") != std::string::npos) {
        total += std::strtoll(line.c_str() + line.find(':') + 1, nullptr, 10);
      }
    }
  }
  return total;
}

void Validate(const Options& o) {
  if (o.address != "127.0.0.1" && o.address != "localhost") {
    Fail("--address must be 127.0.0.1 or localhost (loopback only)");
  }
  if (o.port < 1 || o.port > 65535) Fail("--port must be in [1, 65535]");
  if (!kWorkloads.contains(o.workload)) {
    Fail("unknown --workload '" + o.workload + "' (set, get, verifiableget, verifiableset)");
  }
  if (o.clients < 1 || o.clients > 4096) Fail("--clients must be in [1, 4096]");
  if (o.channels != "per-client" && o.channels != "shared") {
    Fail("--channels must be per-client or shared");
  }
  if (o.api != "cq" && o.api != "callback" && o.api != "sync" && o.api != "h2") {
    Fail("--api must be cq, callback, sync or h2");
  }
  if (o.api == "h2" && o.channels != "per-client") {
    Fail("--api h2 gives every client a connection of its own (--channels per-client)");
  }
  if (o.threads < 1 || o.threads > 64) Fail("--threads must be in [1, 64]");
  if (o.duration < 0 || o.duration > 86400) Fail("--duration must be in [0, 86400] seconds");
  if (o.keys < 1) Fail("--keys must be at least 1");
  if (o.key_size < 1 || o.key_size > 1023) Fail("--key-size must be in [1, 1023]");
  if (o.value_size < 0 || o.value_size > (1 << 20)) Fail("--value-size must be in [0, 1048576]");
  if (o.timeout <= 0 || o.timeout > 3600) Fail("--timeout must be in (0, 3600] seconds");
  if (o.poll_us < 0 || o.poll_us > 1000000) Fail("--poll-us must be in [0, 1000000]");
  if (o.poll_us > 0 && o.api != "h2") Fail("--poll-us is for --api h2");
  if (o.format != "text" && o.format != "kv") Fail("--format must be text or kv");
  if (o.server_pid < 0) Fail("--server-pid must be positive");
  if (o.server_pid > 0 && ProcStatusKib(o.server_pid, "VmRSS") < 0) {
    Fail("cannot read VmRSS from /proc/" + std::to_string(o.server_pid) + "/status");
  }
}

std::shared_ptr<grpc::Channel> NewChannel(const Options& o, int index) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(32 << 20);
  // Each per-client channel gets its own connection instead of sharing the
  // process-wide subchannel of an identical target.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("immudb_load.channel", index);
  return grpc::CreateCustomChannel(o.address + ":" + std::to_string(o.port),
                                   grpc::InsecureChannelCredentials(), args);
}

// Logs in (and selects --database); returns the token to send.
std::string Login(const Options& o, const LoadConfig& cfg,
                  const std::shared_ptr<grpc::Channel>& channel) {
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    Fail("cannot connect to " + o.address + ":" + std::to_string(o.port));
  }
  auto stub = schema::ImmuService::NewStub(channel);
  schema::LoginRequest req;
  req.set_user(o.user);
  req.set_password(o.password);
  schema::LoginResponse reply;
  auto ctx = LoadContext(cfg);
  grpc::Status st = stub->Login(ctx.get(), req, &reply);
  if (!st.ok()) Fail("login as '" + o.user + "': " + st.error_message());
  if (o.database.empty()) return reply.token();
  LoadConfig with_token = cfg;
  with_token.token = reply.token();
  schema::Database db;
  db.set_databasename(o.database);
  schema::UseDatabaseReply used;
  auto use_ctx = LoadContext(with_token);
  st = stub->UseDatabase(use_ctx.get(), db, &used);
  if (!st.ok()) Fail("use database '" + o.database + "': " + st.error_message());
  return used.token();
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The clients' channels: one per client, or one shared; each connected.
// With --api h2 the clients connect by themselves and the one channel only
// reads the state the verifiable workloads start from and probes for Prefill.
std::vector<std::shared_ptr<grpc::Channel>> ClientChannels(const Options& o) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  const int n = o.channels == "per-client" && o.api != "h2" ? o.clients : 1;
  for (int i = 0; i < n; i++) {
    channels.push_back(NewChannel(o, i));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(10))) {
      Fail("a client channel cannot connect");
    }
  }
  return channels;
}

// Runs --clients workers of `cfg` over `channels` until `max_ops` calls
// (0: no bound) or `duration` seconds (0: no bound) and merges their results.
Report RunWorkers(const Options& o, const LoadConfig& cfg,
                  const std::vector<std::shared_ptr<grpc::Channel>>& channels, uint64_t max_ops,
                  double duration) {
  LoadControl ctl;
  ctl.max_ops = max_ops;
  std::vector<std::unique_ptr<LoadWorker>> workers;
  for (int i = 0; i < o.clients; i++) {
    workers.push_back(std::make_unique<LoadWorker>(cfg, &ctl, channels[i % channels.size()],
                                                   0x9e3779b97f4a7c15ULL * (i + 1)));
    std::string failure = workers.back()->Prepare();
    if (!failure.empty()) Fail(failure);
  }
  const double cpu_before = CpuSeconds();
  const double server_cpu_before = o.server_pid > 0 ? ProcCpuSeconds(o.server_pid) : -1;
  const long long server_cs_before = o.server_pid > 0 ? ProcContextSwitches(o.server_pid) : 0;
  const auto start = std::chrono::steady_clock::now();
  if (duration > 0) {
    ctl.deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(duration));
  }
  if (o.api == "cq") {
    // --threads threads, each draining a completion queue of its own that
    // carries the calls of every --threads-th worker.
    const int nthreads = std::min(o.threads, o.clients);
    std::vector<std::thread> threads;
    for (int t = 0; t < nthreads; t++) {
      threads.emplace_back([&workers, t, nthreads] {
        grpc::CompletionQueue cq;
        int in_flight = 0;
        for (size_t i = static_cast<size_t>(t); i < workers.size(); i += nthreads) {
          in_flight += workers[i]->StartQueued(&cq) ? 1 : 0;
        }
        void* tag = nullptr;
        bool ok = false;
        while (in_flight > 0 && cq.Next(&tag, &ok)) {
          if (!static_cast<LoadWorker*>(tag)->OnQueued()) in_flight--;
        }
        cq.Shutdown();
        while (cq.Next(&tag, &ok)) {
        }
      });
    }
    for (auto& t : threads) t.join();
  } else if (o.api == "h2") {
    std::vector<LoadWorker*> raw;
    for (auto& w : workers) raw.push_back(w.get());
    H2Target target;
    target.address = o.address;
    target.port = o.port;
    target.token = cfg.token;
    target.timeout = cfg.timeout;
    target.poll = std::chrono::microseconds(o.poll_us);
    const std::string failure = RunH2(target, raw);
    if (!failure.empty()) Fail(failure);
  } else if (o.api == "callback") {
    std::latch finished(o.clients);
    for (auto& w : workers) w->RunAsync([&finished] { finished.count_down(); });
    finished.wait();
  } else {
    std::vector<std::thread> threads;
    for (auto& w : workers) threads.emplace_back([worker = w.get()] { worker->Run(); });
    for (auto& t : threads) t.join();
  }

  Report r;
  auto end = start;
  for (const auto& w : workers) {
    r.hist.Merge(w->histogram());
    end = std::max(end, w->finished_at());
    for (const auto& [code, e] : w->errors()) {
      auto& into = r.by_code[code];
      if (into.count == 0) into.first_message = e.first_message;
      into.count += e.count;
      r.errors += e.count;
    }
  }
  r.ok = r.hist.count();
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.client_cpu_s = CpuSeconds() - cpu_before;
  if (o.server_pid > 0) {
    r.rss_kib = ProcStatusKib(o.server_pid, "VmRSS");
    r.hwm_kib = ProcStatusKib(o.server_pid, "VmHWM");
    const double cpu_after = ProcCpuSeconds(o.server_pid);
    if (r.ok > 0 && server_cpu_before >= 0 && cpu_after >= 0) {
      r.server_cpu_us_per_op = (cpu_after - server_cpu_before) * 1e6 / static_cast<double>(r.ok);
      r.server_cs_per_op =
          static_cast<double>(ProcContextSwitches(o.server_pid) - server_cs_before) /
          static_cast<double>(r.ok);
    }
  }
  return r;
}

// Makes sure keys [0, keys) exist for the read workloads. When the last one
// is missing, the clients write them all as a `set` run does, one key per
// transaction, so that reads meet transactions of the same size as the set
// workload's (a VerifiableGet rebuilds the Merkle tree of the key's
// transaction: its cost grows with the entries of that transaction).
void Prefill(const Options& o, const LoadConfig& cfg,
             const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  auto stub = schema::ImmuService::NewStub(channels[0]);
  schema::KeyRequest probe;
  probe.set_key(LoadKey(cfg.keys - 1, cfg.key_size));
  schema::Entry entry;
  auto ctx = LoadContext(cfg);
  if (stub->Get(ctx.get(), probe, &entry).ok()) return;
  LoadConfig set = cfg;
  set.workload = Workload::kSet;
  const Report r = RunWorkers(o, set, channels, cfg.keys, 0);
  if (r.errors > 0) {
    const auto& [code, e] = *r.by_code.begin();
    Fail("prefill: " + std::to_string(r.errors) + " Set calls failed, first (code " +
         std::to_string(code) + "): " + e.first_message);
  }
  std::fprintf(stderr, "immudb-load: prefill wrote %llu keys in %.2f s\n",
               static_cast<unsigned long long>(cfg.keys), r.seconds);
}

std::string CodeName(int code) {
  return code == LoadWorker::kVerifyFailed ? "verification" : "grpc code " + std::to_string(code);
}

void Print(const Options& o, const Report& r) {
  const double ops_s = r.seconds > 0 ? static_cast<double>(r.ok) / r.seconds : 0;
  const double p50 = r.hist.Percentile(50) / 1e3;
  const double p99 = r.hist.Percentile(99) / 1e3;
  const double p999 = r.hist.Percentile(99.9) / 1e3;
  const double max = static_cast<double>(r.hist.max()) / 1e3;
  const double client_us = r.ok > 0 ? r.client_cpu_s * 1e6 / static_cast<double>(r.ok) : -1;
  if (o.format == "kv") {
    std::printf(
        "workload=%s api=%s threads=%d clients=%d channels=%s ops=%llu errors=%llu seconds=%.3f "
        "ops_per_s=%.1f "
        "p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f rss_kib=%ld hwm_kib=%ld "
        "client_cpu_s=%.2f client_cpu_us_per_op=%.1f server_cpu_us_per_op=%.1f "
        "server_cs_per_op=%.2f\n",
        o.workload.c_str(), o.api.c_str(),
        o.api == "cq"   ? std::min(o.threads, o.clients)
        : o.api == "h2" ? 1
                        : 0,
        o.clients, o.channels.c_str(), static_cast<unsigned long long>(r.ok),
        static_cast<unsigned long long>(r.errors), r.seconds, ops_s, p50, p99, p999, max, r.rss_kib,
        r.hwm_kib, r.client_cpu_s, client_us, r.server_cpu_us_per_op, r.server_cs_per_op);
  } else {
    std::printf("%s: %d client%s (%s API, %s channels), %.2f s\n", o.workload.c_str(), o.clients,
                o.clients == 1 ? "" : "s", o.api.c_str(), o.channels.c_str(), r.seconds);
    std::printf("  calls       %llu ok, %llu failed\n", static_cast<unsigned long long>(r.ok),
                static_cast<unsigned long long>(r.errors));
    std::printf("  calls/s     %.1f\n", ops_s);
    std::printf("  latency us  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n", p50, p99,
                p999, max, r.hist.mean() / 1e3);
    std::printf("  client cpu  %.2f s (%.1f us per call)\n", r.client_cpu_s, client_us);
    if (o.server_pid > 0) {
      std::printf("  server      VmRSS %.1f MiB, VmHWM %.1f MiB (pid %d)\n", r.rss_kib / 1024.0,
                  r.hwm_kib / 1024.0, o.server_pid);
      std::printf("  server      %.1f us CPU and %.2f context switches per call\n",
                  r.server_cpu_us_per_op, r.server_cs_per_op);
    }
  }
  for (const auto& [code, e] : r.by_code) {
    std::fprintf(stderr, "immudb-load: %llu calls failed with %s, first: %s\n",
                 static_cast<unsigned long long>(e.count), CodeName(code).c_str(),
                 e.first_message.c_str());
  }
}

}  // namespace
}  // namespace immudb::bench

int main(int argc, char** argv) {
  immudb::rpc::TuneGrpcRuntime();
  using immudb::bench::Options;
  Options o;
  CLI::App app{"immudb-load: gRPC load generator against an immudb server on 127.0.0.1",
               "immudb-load"};
  app.add_option("--address", o.address, "server address: 127.0.0.1 or localhost")
      ->capture_default_str();
  app.add_option("--port", o.port, "server gRPC port")->capture_default_str();
  app.add_option("--user", o.user, "user to log in as")->capture_default_str();
  app.add_option("--password", o.password, "password")->capture_default_str();
  app.add_option("--database", o.database, "database to select (default: the login's)");
  app.add_option("--workload", o.workload, "set | get | verifiableget | verifiableset")
      ->capture_default_str();
  app.add_option("--clients", o.clients, "concurrent clients (calls in flight)")
      ->capture_default_str();
  app.add_option("--api", o.api,
                 "cq (gRPC's completion-queue API: --threads threads drive every client, each "
                 "draining a queue of its own), callback (gRPC's callback API: its own threads "
                 "drive every client), sync (one thread per client, blocking calls) or h2 (one "
                 "thread speaks gRPC's HTTP/2 protocol through libnghttp2, a connection per "
                 "client)")
      ->capture_default_str();
  app.add_option("--threads", o.threads,
                 "with --api cq: the threads (and queues) driving the clients")
      ->capture_default_str();
  app.add_option("--channels", o.channels,
                 "per-client (one connection per client) or shared (one for all)")
      ->capture_default_str();
  app.add_option("--duration", o.duration, "seconds to run (10 when neither --duration nor --num)");
  app.add_option("--num", o.num, "total calls to make (0: no bound)");
  app.add_option("--keys", o.keys, "key space of get/verifiableget, written first when missing")
      ->capture_default_str();
  app.add_option("--key-size", o.key_size, "key length (zero-padded digits)")
      ->capture_default_str();
  app.add_option("--value-size", o.value_size, "value length in bytes")->capture_default_str();
  app.add_flag("--verify", o.verify, "check the proofs of verifiable replies as a client does");
  app.add_option("--timeout", o.timeout, "per-call deadline in seconds")->capture_default_str();
  app.add_option("--poll-us", o.poll_us,
                 "with --api h2: after the last socket event, poll this many microseconds "
                 "without blocking before sleeping (0: always block)")
      ->capture_default_str();
  app.add_option(
      "--server-pid", o.server_pid,
      "report this process's VmRSS and VmHWM, and its CPU time and context switches per call");
  app.add_option("--format", o.format, "text, or kv (one line of key=value pairs)")
      ->capture_default_str();
  if (auto exit_code = immudb::bench::ParseFlags(app, argc, argv, "immudb-load")) return *exit_code;
  if (o.duration == 0 && o.num == 0) o.duration = 10;
  immudb::bench::Validate(o);

  immudb::bench::LoadConfig cfg;
  cfg.workload = immudb::bench::kWorkloads.at(o.workload);
  cfg.key_size = o.key_size;
  cfg.value_size = o.value_size;
  cfg.keys = o.keys;
  cfg.verify = o.verify;
  cfg.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout * 1000));
  auto login_channel = immudb::bench::NewChannel(o, -1);
  cfg.token = immudb::bench::Login(o, cfg, login_channel);
  const auto channels = immudb::bench::ClientChannels(o);
  if (cfg.workload == immudb::bench::Workload::kGet ||
      cfg.workload == immudb::bench::Workload::kVerifiableGet) {
    immudb::bench::Prefill(o, cfg, channels);
  }
  const immudb::bench::Report r = immudb::bench::RunWorkers(o, cfg, channels, o.num, o.duration);
  immudb::bench::Print(o, r);
  return r.errors == 0 && r.ok > 0 ? 0 : 1;
}
