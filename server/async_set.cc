#include "server/async_set.h"

#include <pthread.h>

#include "immudb/store.h"

namespace immudb::server {
namespace {

// Set calls requested from gRPC ahead, per queue: calls beyond them wait in
// gRPC until one is answered.
constexpr int kRequestedCalls = 64;

// One Set call: requested, then served, then finished; deletes itself when
// its last completion is reaped.
class SetCall final : public UnaryFinisher {
 public:
  SetCall(ImmuServiceImpl* service, grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq), responder_(&ctx_) {
    service_->RequestSet(&ctx_, &req_, &responder_, cq_, cq_, this);
  }

  // A completion of this call's, `ok` as gRPC reports it.
  void Proceed(bool ok) {
    if (finishing_ || !ok) {  // Finished, or the server shut down before a call came.
      delete this;
      return;
    }
    new SetCall(service_, cq_);  // Takes this one's place for the next call.
    service_->ServeSet(&ctx_, &req_, &resp_, this);
  }

  void Finish(grpc::Status status) override {
    finishing_ = true;
    responder_.Finish(resp_, status, this);
  }

 private:
  ImmuServiceImpl* service_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext ctx_;
  schema::SetRequest req_;
  schema::TxHeader resp_;
  grpc::ServerAsyncResponseWriter<schema::TxHeader> responder_;
  bool finishing_ = false;
};

}  // namespace

AsyncSetServer::AsyncSetServer(ImmuServiceImpl* service, grpc::ServerBuilder* builder, int threads)
    : service_(service) {
  for (int i = 0; i < threads; i++) cqs_.push_back(builder->AddCompletionQueue());
}

AsyncSetServer::~AsyncSetServer() { Shutdown(); }

void AsyncSetServer::Start() {
  started_ = true;
  for (auto& cq : cqs_) threads_.emplace_back([this, q = cq.get()] { Run(q); });
}

void AsyncSetServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& cq : cqs_) cq->Shutdown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (!started_) {  // Queues no thread drained (the server did not start).
    void* tag = nullptr;
    bool ok = false;
    for (auto& cq : cqs_) {
      while (cq->Next(&tag, &ok)) {
      }
    }
  }
}

void AsyncSetServer::Run(grpc::ServerCompletionQueue* cq) {
  pthread_setname_np(pthread_self(), "immudb-set");
  for (int i = 0; i < kRequestedCalls; i++) new SetCall(service_, cq);
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    // Everything ready now is served as one group: its commits are queued,
    // then led here when the scope ends, and their calls finished from here.
    CommitHere group;
    static_cast<SetCall*>(tag)->Proceed(ok);
    while (cq->AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC)) ==
           grpc::CompletionQueue::GOT_EVENT) {
      static_cast<SetCall*>(tag)->Proceed(ok);
    }
  }
}

}  // namespace immudb::server
