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
// Thread-compatible: each worker is used by one thread; LoadControl is shared.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
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

  // Runs calls until the deadline or until max_ops calls were started.
  void Run() {
    while (std::chrono::steady_clock::now() < ctl_->deadline) {
      if (ctl_->max_ops > 0 && ctl_->issued.fetch_add(1) >= ctl_->max_ops) break;
      const auto start = std::chrono::steady_clock::now();
      std::string failure;
      const int code = CallOnce(&failure);
      const auto end = std::chrono::steady_clock::now();
      if (code == 0) {
        hist_.Add(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count()));
      } else {
        ErrorCount& e = errors_[code];
        if (e.count++ == 0) e.first_message = std::move(failure);
      }
      finished_at_ = end;
    }
  }

  const LatencyHistogram& histogram() const { return hist_; }
  const std::map<int, ErrorCount>& errors() const { return errors_; }
  std::chrono::steady_clock::time_point finished_at() const { return finished_at_; }

 private:
  static constexpr size_t kValueSlack = 4096;

  // One call; returns 0 on success, else the gRPC code (or kVerifyFailed)
  // with the reason in *failure.
  int CallOnce(std::string* failure) {
    switch (cfg_.workload) {
      case Workload::kSet:
        return CallSet(failure);
      case Workload::kGet:
        return CallGet(failure);
      case Workload::kVerifiableGet:
        return CallVerifiableGet(failure);
      case Workload::kVerifiableSet:
        return CallVerifiableSet(failure);
    }
    return 0;
  }

  std::string NextValue() {
    const size_t off = rng_() % kValueSlack;
    return values_.substr(off, static_cast<size_t>(cfg_.value_size));
  }
  std::string RandomKey() {
    return LoadKey(std::uniform_int_distribution<uint64_t>(0, cfg_.keys - 1)(rng_), cfg_.key_size);
  }

  static int Failed(const grpc::Status& st, std::string* failure) {
    *failure = st.error_message();
    return static_cast<int>(st.error_code());
  }
  static int Unverified(const Status& st, std::string* failure) {
    *failure = st.ToString();
    return kVerifyFailed;
  }

  int CallSet(std::string* failure) {
    schema::SetRequest req;
    schema::KeyValue* kv = req.add_kvs();
    kv->set_key(LoadKey(ctl_->next_key.fetch_add(1), cfg_.key_size));
    kv->set_value(NextValue());
    schema::TxHeader reply;
    auto ctx = LoadContext(cfg_);
    grpc::Status st = stub_->Set(ctx.get(), req, &reply);
    return st.ok() ? 0 : Failed(st, failure);
  }

  int CallGet(std::string* failure) {
    schema::KeyRequest req;
    req.set_key(RandomKey());
    schema::Entry reply;
    auto ctx = LoadContext(cfg_);
    grpc::Status st = stub_->Get(ctx.get(), req, &reply);
    return st.ok() ? 0 : Failed(st, failure);
  }

  int CallVerifiableGet(std::string* failure) {
    schema::VerifiableGetRequest req;
    req.mutable_keyrequest()->set_key(RandomKey());
    req.set_provesincetx(trusted_.tx_id);
    schema::VerifiableEntry reply;
    auto ctx = LoadContext(cfg_);
    grpc::Status st = stub_->VerifiableGet(ctx.get(), req, &reply);
    if (!st.ok()) return Failed(st, failure);
    if (cfg_.verify) {
      auto next = client::VerifyGetReply(reply, req.keyrequest(), trusted_);
      if (!next.ok()) return Unverified(next.status(), failure);
      trusted_ = std::move(next).value();
    } else {
      Advance(reply.verifiabletx().dualproof().targettxheader().id());
    }
    return 0;
  }

  int CallVerifiableSet(std::string* failure) {
    schema::VerifiableSetRequest req;
    schema::KeyValue* kv = req.mutable_setrequest()->add_kvs();
    kv->set_key(LoadKey(ctl_->next_key.fetch_add(1), cfg_.key_size));
    kv->set_value(NextValue());
    req.set_provesincetx(trusted_.tx_id);
    schema::VerifiableTx reply;
    auto ctx = LoadContext(cfg_);
    grpc::Status st = stub_->VerifiableSet(ctx.get(), req, &reply);
    if (!st.ok()) return Failed(st, failure);
    if (cfg_.verify) {
      auto next = client::VerifySetReply(reply, kv->key(), kv->value(), trusted_);
      if (!next.ok()) return Unverified(next.status(), failure);
      trusted_ = std::move(next).value();
    } else {
      Advance(reply.dualproof().targettxheader().id());
    }
    return 0;
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
};

}  // namespace immudb::bench
