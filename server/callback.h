// Adapters between gRPC's callback API and handler bodies written as plain
// blocking functions.
//
// The server registers every method with the callback API: gRPC then runs no
// thread per call, and a handler either answers at once on the gRPC thread
// that read the request (Inline: short reads) or hands the call to a
// BlockingPool thread (Blocking: writes, which wait for their fsync and their
// index update; anything else that may wait or take long, such as password
// hashing and scans). Streaming bodies keep their blocking shape: they get a
// grpc::ServerReaderInterface / ServerWriterInterface whose Read and Write
// start the reactor's operation and wait for its completion, on a pool thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <utility>

#include "server/blocking_pool.h"

namespace immudb::server {

// Answers a unary call now, on the calling gRPC thread.
template <class Body>
grpc::ServerUnaryReactor* FinishInline(grpc::CallbackServerContext* ctx, Body body) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(body());
  return reactor;
}

// Runs a unary call's body on `pool` and finishes the call with its status.
template <class Body>
grpc::ServerUnaryReactor* FinishOnPool(BlockingPool* pool, grpc::CallbackServerContext* ctx,
                                       Body body) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  pool->Submit([reactor, body = std::move(body)] { reactor->Finish(body()); });
  return reactor;
}

// A write: runs on the calling gRPC thread when `*inline_busy` was false (and
// sets it for the duration), else on `pool`. One write at a time blocks a
// gRPC thread, so a single client's write costs no hand-off while concurrent
// writes still leave the gRPC threads free.
template <class Body>
grpc::ServerUnaryReactor* FinishWrite(BlockingPool* pool, std::atomic<bool>* inline_busy,
                                      grpc::CallbackServerContext* ctx, Body body) {
  if (inline_busy->exchange(true, std::memory_order_acquire)) {
    return FinishOnPool(pool, ctx, std::move(body));
  }
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  grpc::Status status = body();
  inline_busy->store(false, std::memory_order_release);
  reactor->Finish(status);
  return reactor;
}

namespace callback_internal {

// One outstanding reactor operation at a time, waited for by the body's
// thread: Begin before starting it, Wait for its reaction's `ok`.
class OpWaiter {
 public:
  void Begin() {
    std::lock_guard<std::mutex> l(mu_);
    done_ = false;
  }
  void Done(bool ok) {
    {
      std::lock_guard<std::mutex> l(mu_);
      ok_ = ok;
      done_ = true;
    }
    cv_.notify_one();
  }
  bool Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return done_; });
    return ok_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = true;
  bool ok_ = false;
};

// The blocking stream operations over a reactor `Base` (ServerWriteReactor,
// ServerReadReactor or ServerBidiReactor). Each reactor deletes itself in
// OnDone, which gRPC calls only after Finish and after every started
// operation has reacted.
template <class Base>
class BlockingStream : public Base {
 public:
  void SendInitialMetadataNow() {
    metadata_.Begin();
    this->StartSendInitialMetadata();
    metadata_.Wait();
  }
  void OnSendInitialMetadataDone(bool ok) override { metadata_.Done(ok); }
  void OnDone() override { delete this; }

 protected:
  OpWaiter metadata_, read_, write_;
};

}  // namespace callback_internal

// A server-streaming call whose body writes through ServerWriterInterface.
template <class W>
class BlockingWriteReactor final
    : public callback_internal::BlockingStream<grpc::ServerWriteReactor<W>>,
      public grpc::ServerWriterInterface<W> {
 public:
  // Runs `body(writer)` (returning grpc::Status) on `pool`, then finishes.
  template <class Body>
  static grpc::ServerWriteReactor<W>* Start(BlockingPool* pool, Body body) {
    auto* r = new BlockingWriteReactor();
    pool->Submit([r, body = std::move(body)] { r->Finish(body(r)); });
    return r;
  }

  void SendInitialMetadata() override { this->SendInitialMetadataNow(); }
  bool Write(const W& msg, grpc::WriteOptions options) override {
    this->write_.Begin();
    this->StartWrite(&msg, options);
    return this->write_.Wait();
  }
  void OnWriteDone(bool ok) override { this->write_.Done(ok); }

 private:
  BlockingWriteReactor() = default;
};

// A client-streaming call whose body reads through ServerReaderInterface.
template <class R>
class BlockingReadReactor final
    : public callback_internal::BlockingStream<grpc::ServerReadReactor<R>>,
      public grpc::ServerReaderInterface<R> {
 public:
  template <class Body>
  static grpc::ServerReadReactor<R>* Start(BlockingPool* pool, Body body) {
    auto* r = new BlockingReadReactor();
    pool->Submit([r, body = std::move(body)] { r->Finish(body(r)); });
    return r;
  }

  void SendInitialMetadata() override { this->SendInitialMetadataNow(); }
  bool NextMessageSize(uint32_t* sz) override {
    *sz = UINT32_MAX;  // Unknown before the read; the receive limit still applies.
    return true;
  }
  bool Read(R* msg) override {
    this->read_.Begin();
    this->StartRead(msg);
    return this->read_.Wait();
  }
  void OnReadDone(bool ok) override { this->read_.Done(ok); }

 private:
  BlockingReadReactor() = default;
};

// A bidirectional call whose body reads and writes through
// ServerReaderWriterInterface (one read and one write may be outstanding at
// once, as with the synchronous API).
template <class W, class R>
class BlockingBidiReactor final
    : public callback_internal::BlockingStream<grpc::ServerBidiReactor<R, W>>,
      public grpc::ServerReaderWriterInterface<W, R> {
 public:
  template <class Body>
  static grpc::ServerBidiReactor<R, W>* Start(BlockingPool* pool, Body body) {
    auto* r = new BlockingBidiReactor();
    pool->Submit([r, body = std::move(body)] { r->Finish(body(r)); });
    return r;
  }

  void SendInitialMetadata() override { this->SendInitialMetadataNow(); }
  bool NextMessageSize(uint32_t* sz) override {
    *sz = UINT32_MAX;
    return true;
  }
  bool Read(R* msg) override {
    this->read_.Begin();
    this->StartRead(msg);
    return this->read_.Wait();
  }
  bool Write(const W& msg, grpc::WriteOptions options) override {
    this->write_.Begin();
    this->StartWrite(&msg, options);
    return this->write_.Wait();
  }
  void OnReadDone(bool ok) override { this->read_.Done(ok); }
  void OnWriteDone(bool ok) override { this->write_.Done(ok); }

 private:
  BlockingBidiReactor() = default;
};

}  // namespace immudb::server
