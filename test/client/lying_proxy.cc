#include "lying_proxy.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

namespace immudb::client::testing {

using google::protobuf::Empty;
using Stub = schema::ImmuService::Stub;

LyingProxy::LyingProxy(const std::string& upstream, std::string uuid) : uuid_(std::move(uuid)) {
  SetUpstream(upstream);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
}

LyingProxy::~LyingProxy() { server_->Shutdown(); }

void LyingProxy::SetUpstream(const std::string& upstream) {
  auto up = std::make_shared<Upstream>();
  up->stub = schema::ImmuService::NewStub(
      grpc::CreateChannel(upstream, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  schema::LoginRequest req;
  req.set_user("immudb");
  req.set_password("immudb");
  schema::LoginResponse resp;
  if (up->stub->Login(&ctx, req, &resp).ok()) up->token = resp.token();
  std::lock_guard<std::mutex> lock(mu_);
  upstream_ = std::move(up);
}

void LyingProxy::SetUuid(std::string uuid) {
  std::lock_guard<std::mutex> lock(mu_);
  uuid_ = std::move(uuid);
}

void LyingProxy::SetTamper(TamperFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  tamper_ = std::move(fn);
}

template <class Req, class Resp, class Method>
grpc::Status LyingProxy::Forward(const char* rpc, grpc::ServerContext* c, const Req& q, Resp* r,
                                 Method method) {
  std::shared_ptr<Upstream> up;
  std::string uuid;
  TamperFn tamper;
  {
    std::lock_guard<std::mutex> lock(mu_);
    up = upstream_;
    uuid = uuid_;
    tamper = tamper_;
  }
  grpc::ClientContext ctx;
  const bool has_auth = c->client_metadata().count("authorization") > 0;
  if (has_auth && !up->token.empty()) ctx.AddMetadata("authorization", "Bearer " + up->token);
  grpc::Status st = ((*up->stub).*method)(&ctx, q, r);
  c->AddInitialMetadata("immudb-uuid", uuid);
  if (st.ok() && tamper) tamper(rpc, r);
  return st;
}

grpc::Status LyingProxy::Login(grpc::ServerContext* c, const schema::LoginRequest* q,
                               schema::LoginResponse* r) {
  return Forward("Login", c, *q, r, &Stub::Login);
}
grpc::Status LyingProxy::Logout(grpc::ServerContext* c, const Empty*, Empty*) {
  std::lock_guard<std::mutex> lock(mu_);
  c->AddInitialMetadata("immudb-uuid", uuid_);
  return grpc::Status::OK;  // The proxy keeps its own upstream session.
}
grpc::Status LyingProxy::UseDatabase(grpc::ServerContext* c, const schema::Database* q,
                                     schema::UseDatabaseReply* r) {
  return Forward("UseDatabase", c, *q, r, &Stub::UseDatabase);
}
grpc::Status LyingProxy::Set(grpc::ServerContext* c, const schema::SetRequest* q,
                             schema::TxHeader* r) {
  return Forward("Set", c, *q, r, &Stub::Set);
}
grpc::Status LyingProxy::Get(grpc::ServerContext* c, const schema::KeyRequest* q,
                             schema::Entry* r) {
  return Forward("Get", c, *q, r, &Stub::Get);
}
grpc::Status LyingProxy::SetReference(grpc::ServerContext* c, const schema::ReferenceRequest* q,
                                      schema::TxHeader* r) {
  return Forward("SetReference", c, *q, r, &Stub::SetReference);
}
grpc::Status LyingProxy::VerifiableSet(grpc::ServerContext* c,
                                       const schema::VerifiableSetRequest* q,
                                       schema::VerifiableTx* r) {
  return Forward("VerifiableSet", c, *q, r, &Stub::VerifiableSet);
}
grpc::Status LyingProxy::VerifiableGet(grpc::ServerContext* c,
                                       const schema::VerifiableGetRequest* q,
                                       schema::VerifiableEntry* r) {
  return Forward("VerifiableGet", c, *q, r, &Stub::VerifiableGet);
}
grpc::Status LyingProxy::VerifiableTxById(grpc::ServerContext* c,
                                          const schema::VerifiableTxRequest* q,
                                          schema::VerifiableTx* r) {
  return Forward("VerifiableTxById", c, *q, r, &Stub::VerifiableTxById);
}
grpc::Status LyingProxy::VerifiableSetReference(grpc::ServerContext* c,
                                                const schema::VerifiableReferenceRequest* q,
                                                schema::VerifiableTx* r) {
  return Forward("VerifiableSetReference", c, *q, r, &Stub::VerifiableSetReference);
}
grpc::Status LyingProxy::VerifiableZAdd(grpc::ServerContext* c,
                                        const schema::VerifiableZAddRequest* q,
                                        schema::VerifiableTx* r) {
  return Forward("VerifiableZAdd", c, *q, r, &Stub::VerifiableZAdd);
}
grpc::Status LyingProxy::TxById(grpc::ServerContext* c, const schema::TxRequest* q, schema::Tx* r) {
  return Forward("TxById", c, *q, r, &Stub::TxById);
}
grpc::Status LyingProxy::CurrentState(grpc::ServerContext* c, const Empty* q,
                                      schema::ImmutableState* r) {
  return Forward("CurrentState", c, *q, r, &Stub::CurrentState);
}
grpc::Status LyingProxy::Health(grpc::ServerContext* c, const Empty* q, schema::HealthResponse* r) {
  return Forward("Health", c, *q, r, &Stub::Health);
}

}  // namespace immudb::client::testing
