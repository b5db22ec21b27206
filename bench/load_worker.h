// LoadWorker: one client of immudb-load. It runs one workload over a gRPC
// channel (its own or one shared with other workers) until the run's shared
// LoadControl says stop (a deadline or a total number of calls), timing every
// call into its own LatencyHistogram and counting failures by gRPC code.
//
// Workloads (one call each):
//   set            Set of one 16-byte key (a fresh sequence number) and a
//                  100-byte value; the server commits it synced when it runs
//                  with --synced (its default).
//   get            Get of a random key in [0, keys), written before the run.
//   verifiableget  VerifiableGet of a random key in [0, keys) with
//                  proveSinceTx = the last tx the worker has seen.
//   verifiableset  VerifiableSet of one fresh key with proveSinceTx = the
//                  last tx the worker has seen.
// With `verify`, the replies of the verifiable workloads are checked as a
// verifying client checks them (client/verifier.h) and a failed check counts
// as an error; without it only the gRPC status is checked and the last tx is
// taken from the reply.
//
// Thread-compatible: a worker has one call in flight, run by one thread, by
// its chain of callbacks, or by the thread that drains its completion queue;
// LoadControl is shared.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "bench/histogram.h"
#include "client/convert.h"
#include "client/types.h"
#include "client/verifier.h"
#include "schema.grpc.pb.h"

namespace immudb::bench {

enum class Workload { kSet, kGet, kVerifiableGet, kVerifiableSet };

// The settings every worker of a run shares.
struct LoadConfig {
  Workload workload = Workload::kSet;
  int key_size = 16;
  int value_size = 100;
  uint64_t keys = 10000;  // Key space of the read workloads.
  bool verify = false;
  std::chrono::milliseconds timeout{10000};  // Per call.
  std::string token;                         // Sent as "authorization: Bearer <token>".
};

// The run's shared counters and bounds.
struct LoadControl {
  std::atomic<uint64_t> next_key{0};  // Next sequence number a write uses.
  std::atomic<uint64_t> issued{0};    // Calls started, for max_ops.
  uint64_t max_ops = 0;               // 0: no bound on the number of calls.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// Key number `n` as zero-padded decimal digits, `key_size` of them (more when
// `n` needs more).
inline std::string LoadKey(uint64_t n, int key_size) {
  std::string digits = std::to_string(n);
  if (digits.size() < static_cast<size_t>(key_size)) {
    digits.insert(0, static_cast<size_t>(key_size) - digits.size(), '0');
  }
  return digits;
}

// A gRPC context with the token and the per-call deadline.
inline std::unique_ptr<grpc::ClientContext> LoadContext(const LoadConfig& cfg) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!cfg.token.empty()) ctx->AddMetadata("authorization", "Bearer " + cfg.token);
  ctx->set_deadline(std::chrono::system_clock::now() + cfg.timeout);
  return ctx;
}

class LoadWorker {
 public:
  // A failed proof check, counted under this code.
  static constexpr int kVerifyFailed = -1;

  struct ErrorCount {
    uint64_t count = 0;
    std::string first_message;
  };

  LoadWorker(const LoadConfig& cfg, LoadControl* ctl, const std::shared_ptr<grpc::Channel>& channel,
             uint64_t seed)
      : cfg_(cfg), ctl_(ctl), stub_(schema::ImmuService::NewStub(channel)), rng_(seed) {
    std::uniform_int_distribution<int> byte(0, 255);
    values_.resize(static_cast<size_t>(cfg_.value_size) + kValueSlack);
    for (char& c : values_) c = static_cast<char>(byte(rng_));
  }

  // Reads the state the verifiable workloads start from (the server's
  // current one, as a client on first use). Returns the failure text, or "".
  std::string Prepare() {
    if (cfg_.workload != Workload::kVerifiableGet && cfg_.workload != Workload::kVerifiableSet) {
      return "";
    }
    auto ctx = LoadContext(cfg_);
    schema::ImmutableState reply;
    grpc::Status st = stub_->CurrentState(ctx.get(), google::protobuf::Empty(), &reply);
    if (!st.ok()) return "CurrentState: " + st.error_message();
    auto state = client::FromProto(reply);
    if (!state.ok()) return "CurrentState: " + state.status().ToString();
    trusted_ = std::move(state).value();
    return "";
  }

  // Runs calls one after another on this thread until the deadline or until
  // max_ops calls were started.
  void Run() {
    Call call;
    while (NextCall(&call)) {
      Finish(&call, IssueSync(&call));
    }
  }

  // Starts the same sequence of calls with gRPC's callback API: each call
  // starts the next from its completion, on a gRPC thread, so a few threads
  // serve many workers. `done` runs once the last call finished.
  void RunAsync(std::function<void()> done) {
    done_ = std::move(done);
    StartNextAsync();
  }

  // Starts the same sequence of calls on `cq` (gRPC's completion-queue API):
  // each call's completion comes out of `cq` with this worker as its tag,
  // and whichever thread drains `cq` passes it to OnQueued, which starts the
  // next call. So one thread can drive many workers with no thread switch
  // between a call's completion and the next call. False when the run was
  // already over (no call started).
  bool StartQueued(grpc::CompletionQueue* cq) {
    cq_ = cq;
    return StartNextQueued();
  }

  // The completion of the call StartQueued (or the previous OnQueued)
  // started: records it and starts the next one. False once this worker has
  // no call in flight any more.
  bool OnQueued() {
    Finish(&async_call_, async_call_.status);
    return StartNextQueued();
  }

  // Calls over a transport of the caller's (immudb-load --api h2, bench/h2_load.h),
  // one in flight: StartRaw prepares the next call and writes its gRPC
  // message (the 5-byte length prefix, then the serialized request) to *body;
  // false once the run is over. FinishRaw takes the call's status and, when
  // it is OK, the reply's serialized bytes (without the prefix), then checks
  // and records the call as the other modes do.
  bool StartRaw(std::string* body) {
    Call* c = &async_call_;
    if (!NextCall(c, /*grpc_context=*/false)) return false;
    return WithMessages(c, [body](const auto& request, auto*) {
      Frame(request, body);
      return true;
    });
  }
  void FinishRaw(const grpc::Status& st, std::string_view reply) {
    Call* c = &async_call_;
    grpc::Status parsed = st;
    if (st.ok() &&
        !WithMessages(c, [reply](const auto&, auto* msg) { return Parse(reply, msg); })) {
      parsed = grpc::Status(grpc::StatusCode::INTERNAL, "cannot parse the reply");
    }
    Finish(c, parsed);
  }
  // The method of this worker's workload, as the path of an HTTP/2 request.
  const char* MethodPath() const {
    switch (cfg_.workload) {
      case Workload::kSet:
        return "/immudb.schema.ImmuService/Set";
      case Workload::kGet:
        return "/immudb.schema.ImmuService/Get";
      case Workload::kVerifiableGet:
        return "/immudb.schema.ImmuService/VerifiableGet";
      case Workload::kVerifiableSet:
        return "/immudb.schema.ImmuService/VerifiableSet";
    }
    return "";
  }
  // The request of the call started last (StartRaw or another mode).
  const schema::SetRequest& last_set_request() const { return async_call_.set; }
  const schema::KeyRequest& last_get_request() const { return async_call_.get; }
  // The reply of the call finished last when it was a Get.
  const schema::Entry& last_get_reply() const { return async_call_.get_reply; }

  const LatencyHistogram& histogram() const { return hist_; }
  const std::map<int, ErrorCount>& errors() const { return errors_; }
  std::chrono::steady_clock::time_point finished_at() const { return finished_at_; }

 private:
  static constexpr size_t kValueSlack = 4096;

  // One call in flight: its context, request, reply and start time.
  struct Call {
    std::unique_ptr<grpc::ClientContext> ctx;
    schema::SetRequest set;
    schema::TxHeader set_reply;
    schema::KeyRequest get;
    schema::Entry get_reply;
    schema::VerifiableGetRequest vget;
    schema::VerifiableEntry vget_reply;
    schema::VerifiableSetRequest vset;
    schema::VerifiableTx vset_reply;
    std::chrono::steady_clock::time_point start;
    // Completion-queue calls: the call's reader and its final status.
    std::unique_ptr<grpc::ClientAsyncResponseReader<schema::TxHeader>> set_rpc;
    std::unique_ptr<grpc::ClientAsyncResponseReader<schema::Entry>> get_rpc;
    std::unique_ptr<grpc::ClientAsyncResponseReader<schema::VerifiableEntry>> vget_rpc;
    std::unique_ptr<grpc::ClientAsyncResponseReader<schema::VerifiableTx>> vset_rpc;
    grpc::Status status;
  };

  // Returns f(request, &reply) for the request and reply messages of this
  // worker's workload in *c.
  template <typename F>
  bool WithMessages(Call* c, F&& f) {
    switch (cfg_.workload) {
      case Workload::kSet:
        return f(c->set, &c->set_reply);
      case Workload::kGet:
        return f(c->get, &c->get_reply);
      case Workload::kVerifiableGet:
        return f(c->vget, &c->vget_reply);
      case Workload::kVerifiableSet:
        return f(c->vset, &c->vset_reply);
    }
    return false;
  }

  // Prepares the next call's request (and, with `grpc_context`, its gRPC
  // context); false once the run is over.
  bool NextCall(Call* c, bool grpc_context = true) {
    if (std::chrono::steady_clock::now() >= ctl_->deadline) return false;
    if (ctl_->max_ops > 0 && ctl_->issued.fetch_add(1) >= ctl_->max_ops) return false;
    if (grpc_context) c->ctx = LoadContext(cfg_);
    switch (cfg_.workload) {
      case Workload::kSet: {
        c->set.Clear();
        schema::KeyValue* kv = c->set.add_kvs();
        kv->set_key(LoadKey(ctl_->next_key.fetch_add(1), cfg_.key_size));
        kv->set_value(NextValue());
        break;
      }
      case Workload::kGet:
        c->get.set_key(RandomKey());
        break;
      case Workload::kVerifiableGet:
        c->vget.mutable_keyrequest()->set_key(RandomKey());
        c->vget.set_provesincetx(trusted_.tx_id);
        break;
      case Workload::kVerifiableSet: {
        c->vset.Clear();
        schema::KeyValue* kv = c->vset.mutable_setrequest()->add_kvs();
        kv->set_key(LoadKey(ctl_->next_key.fetch_add(1), cfg_.key_size));
        kv->set_value(NextValue());
        c->vset.set_provesincetx(trusted_.tx_id);
        break;
      }
    }
    c->start = std::chrono::steady_clock::now();
    return true;
  }

  grpc::Status IssueSync(Call* c) {
    switch (cfg_.workload) {
      case Workload::kSet:
        return stub_->Set(c->ctx.get(), c->set, &c->set_reply);
      case Workload::kGet:
        return stub_->Get(c->ctx.get(), c->get, &c->get_reply);
      case Workload::kVerifiableGet:
        return stub_->VerifiableGet(c->ctx.get(), c->vget, &c->vget_reply);
      case Workload::kVerifiableSet:
        return stub_->VerifiableSet(c->ctx.get(), c->vset, &c->vset_reply);
    }
    return grpc::Status::OK;
  }

  void StartNextAsync() {
    if (!NextCall(&async_call_)) {
      auto done = std::move(done_);
      done();
      return;
    }
    Call* c = &async_call_;
    auto on_done = [this](grpc::Status st) {
      Finish(&async_call_, st);
      StartNextAsync();
    };
    auto* async = stub_->async();
    switch (cfg_.workload) {
      case Workload::kSet:
        async->Set(c->ctx.get(), &c->set, &c->set_reply, std::move(on_done));
        break;
      case Workload::kGet:
        async->Get(c->ctx.get(), &c->get, &c->get_reply, std::move(on_done));
        break;
      case Workload::kVerifiableGet:
        async->VerifiableGet(c->ctx.get(), &c->vget, &c->vget_reply, std::move(on_done));
        break;
      case Workload::kVerifiableSet:
        async->VerifiableSet(c->ctx.get(), &c->vset, &c->vset_reply, std::move(on_done));
        break;
    }
  }

  bool StartNextQueued() {
    Call* c = &async_call_;
    // A reader lives in its call's memory: it goes before the context that
    // NextCall replaces.
    c->set_rpc.reset();
    c->get_rpc.reset();
    c->vget_rpc.reset();
    c->vset_rpc.reset();
    if (!NextCall(c)) return false;
    switch (cfg_.workload) {
      case Workload::kSet:
        StartQueued(c, &schema::ImmuService::Stub::PrepareAsyncSet, c->set, &c->set_reply,
                    &c->set_rpc);
        break;
      case Workload::kGet:
        StartQueued(c, &schema::ImmuService::Stub::PrepareAsyncGet, c->get, &c->get_reply,
                    &c->get_rpc);
        break;
      case Workload::kVerifiableGet:
        StartQueued(c, &schema::ImmuService::Stub::PrepareAsyncVerifiableGet, c->vget,
                    &c->vget_reply, &c->vget_rpc);
        break;
      case Workload::kVerifiableSet:
        StartQueued(c, &schema::ImmuService::Stub::PrepareAsyncVerifiableSet, c->vset,
                    &c->vset_reply, &c->vset_rpc);
        break;
    }
    return true;
  }

  // Starts one unary call of `c` on the completion queue, tagged with this
  // worker; its reader lives in *rpc until the call after it starts.
  template <typename Request, typename Reply>
  void StartQueued(Call* c,
                   std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>> (
                       schema::ImmuService::Stub::*prepare)(grpc::ClientContext*, const Request&,
                                                            grpc::CompletionQueue*),
                   const Request& request, Reply* reply,
                   std::unique_ptr<grpc::ClientAsyncResponseReader<Reply>>* rpc) {
    *rpc = (stub_.get()->*prepare)(c->ctx.get(), request, cq_);
    (*rpc)->StartCall();
    (*rpc)->Finish(reply, &c->status, this);
  }

  // Checks a finished call (and, with `verify`, its proofs) and records its
  // latency or its failure.
  void Finish(Call* c, const grpc::Status& st) {
    std::string failure;
    const int code = Check(c, st, &failure);
    const auto end = std::chrono::steady_clock::now();
    if (code == 0) {
      hist_.Add(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - c->start).count()));
    } else {
      ErrorCount& e = errors_[code];
      if (e.count++ == 0) e.first_message = std::move(failure);
    }
    finished_at_ = end;
  }

  // 0 when the call succeeded, else the gRPC code (or kVerifyFailed) with the
  // reason in *failure.
  int Check(Call* c, const grpc::Status& st, std::string* failure) {
    if (!st.ok()) {
      *failure = st.error_message();
      return static_cast<int>(st.error_code());
    }
    switch (cfg_.workload) {
      case Workload::kSet:
      case Workload::kGet:
        return 0;
      case Workload::kVerifiableGet:
        if (cfg_.verify) {
          auto next = client::VerifyGetReply(c->vget_reply, c->vget.keyrequest(), trusted_);
          if (!next.ok()) return Unverified(next.status(), failure);
          trusted_ = std::move(next).value();
        } else {
          Advance(c->vget_reply.verifiabletx().dualproof().targettxheader().id());
        }
        return 0;
      case Workload::kVerifiableSet:
        if (cfg_.verify) {
          const schema::KeyValue& kv = c->vset.setrequest().kvs(0);
          auto next = client::VerifySetReply(c->vset_reply, kv.key(), kv.value(), trusted_);
          if (!next.ok()) return Unverified(next.status(), failure);
          trusted_ = std::move(next).value();
        } else {
          Advance(c->vset_reply.dualproof().targettxheader().id());
        }
        return 0;
    }
    return 0;
  }

  // `msg` as one gRPC message: an uncompressed flag byte, the length (4
  // bytes, big-endian), the serialized bytes.
  static void Frame(const google::protobuf::MessageLite& msg, std::string* body) {
    const size_t size = msg.ByteSizeLong();
    body->resize(5 + size);
    auto* p = reinterpret_cast<uint8_t*>(body->data());
    p[0] = 0;
    p[1] = static_cast<uint8_t>(size >> 24);
    p[2] = static_cast<uint8_t>(size >> 16);
    p[3] = static_cast<uint8_t>(size >> 8);
    p[4] = static_cast<uint8_t>(size);
    msg.SerializeWithCachedSizesToArray(p + 5);
  }
  static bool Parse(std::string_view bytes, google::protobuf::MessageLite* msg) {
    return bytes.size() <= INT32_MAX &&
           msg->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  }

  std::string NextValue() {
    const size_t off = rng_() % kValueSlack;
    return values_.substr(off, static_cast<size_t>(cfg_.value_size));
  }
  std::string RandomKey() {
    return LoadKey(std::uniform_int_distribution<uint64_t>(0, cfg_.keys - 1)(rng_), cfg_.key_size);
  }
  static int Unverified(const Status& st, std::string* failure) {
    *failure = st.ToString();
    return kVerifyFailed;
  }

  // Without verification, the next proveSinceTx is the reply's target.
  void Advance(uint64_t tx_id) {
    if (tx_id > trusted_.tx_id) trusted_.tx_id = tx_id;
  }

  LoadConfig cfg_;
  LoadControl* ctl_;
  std::unique_ptr<schema::ImmuService::Stub> stub_;
  std::mt19937_64 rng_;
  std::string values_;
  client::State trusted_;
  LatencyHistogram hist_;
  std::map<int, ErrorCount> errors_;
  std::chrono::steady_clock::time_point finished_at_ = std::chrono::steady_clock::now();
  Call async_call_;
  std::function<void()> done_;
  grpc::CompletionQueue* cq_ = nullptr;
};

}  // namespace immudb::bench
