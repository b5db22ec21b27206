// immudb-echo-server: the gRPC baseline for immudb-load. It serves
// immudb.schema.ImmuService with the calls immudb-load makes (Login, Logout,
// UseDatabase, Health, CurrentState, Set, Get, VerifiableSet, VerifiableGet)
// and answers each at once with a fixed, well-formed reply, storing nothing
// and checking no token. Every other method is UNIMPLEMENTED.
//
// The gRPC server is set up as immudb's with --grpc-dispatch=callback
// (server/server.cc; immudb's default serves from completion queues of its
// own): every method on gRPC's callback API, the same maximum receive
// message size; it answers on the gRPC thread that read the call and has none
// of immudb's per-call work, so immudb/echo is the cost of everything immudb
// does beyond bare gRPC.
//
// It prints "immudb-echo-server listening on 127.0.0.1:<port>" once it
// listens (--port 0 picks a free port) and stops on SIGTERM or SIGINT.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "bench/cli_flags.h"
#include "grpc_runtime.h"
#include "schema.grpc.pb.h"

namespace immudb::bench {
namespace {

using grpc::Status;

class EchoService final : public schema::ImmuService::CallbackService {
 public:
  explicit EchoService(int value_size) {
    const std::string hash(32, '\x5a');
    schema::TxHeader* h = &header_;
    h->set_id(1);
    h->set_prevalh(hash);
    h->set_ts(static_cast<int64_t>(std::time(nullptr)));
    h->set_nentries(1);
    h->set_eh(hash);
    h->set_bltxid(0);
    h->set_blroot(hash);
    h->set_version(1);

    entry_.set_tx(1);
    entry_.set_value(std::string(static_cast<size_t>(value_size), 'v'));
    entry_.set_revision(1);

    schema::Tx* tx = verifiable_tx_.mutable_tx();
    *tx->mutable_header() = header_;
    schema::TxEntry* te = tx->add_entries();
    te->set_hvalue(hash);
    te->set_vlen(value_size);
    schema::DualProof* dp = verifiable_tx_.mutable_dualproof();
    *dp->mutable_sourcetxheader() = header_;
    *dp->mutable_targettxheader() = header_;
    dp->set_targetbltxalh(hash);
    dp->mutable_linearproof()->set_sourcetxid(1);
    dp->mutable_linearproof()->set_targettxid(1);
    dp->mutable_linearproof()->add_terms(hash);

    *verifiable_entry_.mutable_entry() = entry_;
    *verifiable_entry_.mutable_verifiabletx() = verifiable_tx_;
    verifiable_entry_.mutable_inclusionproof()->set_leaf(0);
    verifiable_entry_.mutable_inclusionproof()->set_width(1);

    state_.set_db("defaultdb");
    state_.set_txid(1);
    state_.set_txhash(hash);
  }

  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* ctx, const schema::LoginRequest*,
                                  schema::LoginResponse* r) override {
    r->set_token(kToken);
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* Logout(grpc::CallbackServerContext* ctx, const google::protobuf::Empty*,
                                   google::protobuf::Empty*) override {
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* UseDatabase(grpc::CallbackServerContext* ctx, const schema::Database*,
                                        schema::UseDatabaseReply* r) override {
    r->set_token(kToken);
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* Health(grpc::CallbackServerContext* ctx, const google::protobuf::Empty*,
                                   schema::HealthResponse* r) override {
    r->set_status(true);
    r->set_version("echo");
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* CurrentState(grpc::CallbackServerContext* ctx,
                                         const google::protobuf::Empty*,
                                         schema::ImmutableState* r) override {
    *r = state_;
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* Set(grpc::CallbackServerContext* ctx, const schema::SetRequest*,
                                schema::TxHeader* r) override {
    *r = header_;
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const schema::KeyRequest* req,
                                schema::Entry* r) override {
    *r = entry_;
    r->set_key(req->key());
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* VerifiableSet(grpc::CallbackServerContext* ctx,
                                          const schema::VerifiableSetRequest*,
                                          schema::VerifiableTx* r) override {
    *r = verifiable_tx_;
    return Done(ctx);
  }
  grpc::ServerUnaryReactor* VerifiableGet(grpc::CallbackServerContext* ctx,
                                          const schema::VerifiableGetRequest* req,
                                          schema::VerifiableEntry* r) override {
    *r = verifiable_entry_;
    r->mutable_entry()->set_key(req->keyrequest().key());
    return Done(ctx);
  }

 private:
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(Status::OK);
    return reactor;
  }

  static constexpr const char* kToken = "echo-token";
  schema::TxHeader header_;
  schema::Entry entry_;
  schema::VerifiableTx verifiable_tx_;
  schema::VerifiableEntry verifiable_entry_;
  schema::ImmutableState state_;
};

}  // namespace
}  // namespace immudb::bench

int main(int argc, char** argv) {
  immudb::rpc::TuneGrpcRuntime();
  std::string address = "127.0.0.1";
  int port = 0;
  int value_size = 100;
  int64_t max_recv_msg_size = 32 << 20;  // immudb's default (server/config.h).
  CLI::App app{"immudb-echo-server: fixed replies to immudb-load, the bare-gRPC baseline",
               "immudb-echo-server"};
  app.add_option("--address", address, "listen address: 127.0.0.1 or localhost")
      ->capture_default_str();
  app.add_option("--port", port, "port (0: a free one)")->capture_default_str();
  app.add_option("--value-size", value_size, "bytes of the value Get returns")
      ->capture_default_str();
  app.add_option("--max-recv-msg-size", max_recv_msg_size, "largest request in bytes")
      ->capture_default_str();
  if (auto exit_code = immudb::bench::ParseFlags(app, argc, argv, "immudb-echo-server")) {
    return *exit_code;
  }
  if (address != "127.0.0.1" && address != "localhost") {
    std::fprintf(stderr, "immudb-echo-server: --address must be 127.0.0.1 or localhost\n");
    return 2;
  }
  if (port < 0 || port > 65535 || value_size < 0 || value_size > (1 << 20) ||
      max_recv_msg_size < 1 || max_recv_msg_size > INT32_MAX) {
    std::fprintf(stderr,
                 "immudb-echo-server: --port must be in [0, 65535], --value-size in [0, 1048576], "
                 "--max-recv-msg-size in [1, 2^31)\n");
    return 2;
  }

  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  immudb::bench::EchoService service(value_size);
  grpc::ServerBuilder builder;
  int bound = 0;
  const std::string addr = address + ":" + std::to_string(port);
  builder.AddListeningPort(addr, grpc::InsecureServerCredentials(), &bound);
  builder.SetMaxReceiveMessageSize(static_cast<int>(max_recv_msg_size));
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) {
    std::fprintf(stderr, "immudb-echo-server: cannot listen on %s\n", addr.c_str());
    return 1;
  }
  std::printf("immudb-echo-server listening on %s:%d\n", address.c_str(), bound);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}
