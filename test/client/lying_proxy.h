// LyingProxy: an in-process ImmuService on a free loopback port that forwards
// the calls a Client makes to a real server, and can lie about the replies:
// alter them (Tamper), switch to another upstream server mid-session (a forked
// or rolled-back history behind one identity), or send another immudb-uuid.
//
// The proxy logs in to each upstream as immudb/immudb and uses its own token
// there, so a client session survives an upstream switch. Thread-safe.
#pragma once

#include <grpcpp/server.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "schema.grpc.pb.h"

namespace immudb::client::testing {

class LyingProxy final : public schema::ImmuService::Service {
 public:
  // Called with the RPC name and the reply of every successful call before
  // it is sent back.
  using TamperFn = std::function<void(const std::string& rpc, google::protobuf::Message* reply)>;

  // Starts serving; forwards to `upstream` ("host:port") as server `uuid`.
  LyingProxy(const std::string& upstream, std::string uuid);
  ~LyingProxy() override;

  int port() const { return port_; }
  void SetUpstream(const std::string& upstream);
  void SetUuid(std::string uuid);
  void SetTamper(TamperFn fn);

  grpc::Status Login(grpc::ServerContext* c, const schema::LoginRequest* q,
                     schema::LoginResponse* r) override;
  grpc::Status Logout(grpc::ServerContext* c, const google::protobuf::Empty* q,
                      google::protobuf::Empty* r) override;
  grpc::Status UseDatabase(grpc::ServerContext* c, const schema::Database* q,
                           schema::UseDatabaseReply* r) override;
  grpc::Status Set(grpc::ServerContext* c, const schema::SetRequest* q,
                   schema::TxHeader* r) override;
  grpc::Status Get(grpc::ServerContext* c, const schema::KeyRequest* q, schema::Entry* r) override;
  grpc::Status SetReference(grpc::ServerContext* c, const schema::ReferenceRequest* q,
                            schema::TxHeader* r) override;
  grpc::Status VerifiableSet(grpc::ServerContext* c, const schema::VerifiableSetRequest* q,
                             schema::VerifiableTx* r) override;
  grpc::Status VerifiableGet(grpc::ServerContext* c, const schema::VerifiableGetRequest* q,
                             schema::VerifiableEntry* r) override;
  grpc::Status VerifiableTxById(grpc::ServerContext* c, const schema::VerifiableTxRequest* q,
                                schema::VerifiableTx* r) override;
  grpc::Status VerifiableSetReference(grpc::ServerContext* c,
                                      const schema::VerifiableReferenceRequest* q,
                                      schema::VerifiableTx* r) override;
  grpc::Status VerifiableZAdd(grpc::ServerContext* c, const schema::VerifiableZAddRequest* q,
                              schema::VerifiableTx* r) override;
  grpc::Status TxById(grpc::ServerContext* c, const schema::TxRequest* q, schema::Tx* r) override;
  grpc::Status CurrentState(grpc::ServerContext* c, const google::protobuf::Empty* q,
                            schema::ImmutableState* r) override;
  grpc::Status Health(grpc::ServerContext* c, const google::protobuf::Empty* q,
                      schema::HealthResponse* r) override;

 private:
  struct Upstream {
    std::unique_ptr<schema::ImmuService::Stub> stub;
    std::string token;
  };
  template <class Req, class Resp, class Method>
  grpc::Status Forward(const char* rpc, grpc::ServerContext* c, const Req& q, Resp* r,
                       Method method);

  std::mutex mu_;
  std::shared_ptr<Upstream> upstream_;
  std::string uuid_;
  TamperFn tamper_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace immudb::client::testing
