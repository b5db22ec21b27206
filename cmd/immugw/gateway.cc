// Gateway: setup, the HTTP server and the plain (forwarded) routes.
#include "cmd/immugw/gateway.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <httplib.h>

#include <cctype>
#include <filesystem>
#include <system_error>

#include "client/channel.h"
#include "cmd/immugw/rest_json.h"

namespace immudb::gateway {
namespace {

using google::protobuf::Empty;
using Stub = schema::ImmuService::Stub;

template <class Req, class Resp>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

std::string StateFileName(const GatewayOptions& o) {
  std::string name = ".immugw-state-" + o.immudb_address + "-" + std::to_string(o.immudb_port);
  for (char& c : name) {
    if (c == '/' || c == ':') c = '_';
  }
  return name;
}

}  // namespace

Result<std::unique_ptr<Gateway>> Gateway::Create(GatewayOptions options) {
  if (options.dir.empty()) options.dir = ".";
  std::unique_ptr<client::SignatureVerifier> verifier;
  if (!options.server_signing_pub_key.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(verifier,
                            client::SignatureVerifier::FromFile(options.server_signing_pub_key));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Status::IOError("cannot create directory " + options.dir + ": " + ec.message());
  // The channel to immudb (TLS when asked): bad TLS settings fail here,
  // naming the file.
  client::Options co;
  co.address = options.immudb_address;
  co.port = options.immudb_port;
  co.tls = options.tls;
  co.max_recv_msg_size = options.max_recv_msg_size;
  IMMUDB_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, client::MakeChannel(co));
  auto gw = std::unique_ptr<Gateway>(
      new Gateway(std::move(options), std::move(verifier), std::move(channel)));
  if (gw->options_.audit) {
    client::AuditorOptions a = gw->options_.audit_options;
    a.client.address = gw->options_.immudb_address;
    a.client.port = gw->options_.immudb_port;
    a.client.server_signing_pub_key = gw->options_.server_signing_pub_key;
    a.client.tls = gw->options_.tls;
    a.client.timeout = gw->options_.timeout;
    a.state_dir = gw->options_.dir + "/auditor";
    a.monitoring_port = -1;  // Its metrics are on the gateway's /metrics.
    IMMUDB_ASSIGN_OR_RETURN(gw->auditor_, client::Auditor::Create(std::move(a)));
  }
  return gw;
}

Gateway::Gateway(GatewayOptions options, std::unique_ptr<client::SignatureVerifier> verifier,
                 std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      verifier_(std::move(verifier)),
      channel_(std::move(channel)),
      store_(options_.dir + "/" + StateFileName(options_)) {
  stub_ = schema::ImmuService::NewStub(channel_);
}

Gateway::~Gateway() { Stop(); }

std::unique_ptr<grpc::ClientContext> Gateway::Context(const std::string& token) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + options_.timeout);
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::unique_ptr<grpc::ClientContext> Gateway::Context(const httplib::Request& req) const {
  auto ctx = Context(std::string());
  if (req.has_header("Authorization")) {
    ctx->AddMetadata("authorization", req.get_header_value("Authorization"));
  }
  if (req.has_header("sessionid")) ctx->AddMetadata("sessionid", req.get_header_value("sessionid"));
  // grpc-gateway passes "Grpc-Metadata-<key>" headers on as <key>.
  for (const auto& [name, value] : req.headers) {
    constexpr std::string_view kPrefix = "grpc-metadata-";
    if (name.size() <= kPrefix.size()) continue;
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.compare(0, kPrefix.size(), kPrefix) == 0) {
      ctx->AddMetadata(lower.substr(kPrefix.size()), value);
    }
  }
  return ctx;
}

std::unique_ptr<grpc::ClientContext> Gateway::Context(const httplib::Request& req,
                                                      const std::string& token) const {
  return token.empty() ? Context(req) : Context(token);
}

namespace {

void WriteError(httplib::Response& res, grpc::StatusCode code, const std::string& message) {
  res.status = HttpStatus(code);
  res.set_content(ErrorBody(code, message), "application/json");
}

// Registers `rpc` at `path` (and "/api" + path). `params` names the request
// fields the regex groups of `path` fill; GET routes also take the query.
template <class Req, class Resp>
void Forward(httplib::Server* http, Stub* stub,
             std::function<std::unique_ptr<grpc::ClientContext>(const httplib::Request&)> context,
             const std::string& method, const std::string& path, Rpc<Req, Resp> rpc,
             std::vector<std::string> params = {}) {
  auto handler = [stub, context, rpc, params, method](const httplib::Request& hreq,
                                                      httplib::Response& hres) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (size_t i = 0; i < params.size() && i + 1 < hreq.matches.size(); ++i) {
      fields.emplace_back(params[i], hreq.matches[i + 1].str());
    }
    if (method == "GET") {
      for (const auto& [k, v] : hreq.params) fields.emplace_back(k, v);
    }
    Req req;
    Status st = DecodeRequest(method == "GET" ? std::string() : hreq.body, fields, &req);
    if (!st.ok()) return WriteError(hres, grpc::StatusCode::INVALID_ARGUMENT, st.message());
    Resp resp;
    auto ctx = context(hreq);
    grpc::Status gs = (stub->*rpc)(ctx.get(), req, &resp);
    if (!gs.ok()) return WriteError(hres, gs.error_code(), gs.error_message());
    hres.set_content(EncodeReply(resp), "application/json");
  };
  for (const std::string& prefix : {std::string(), std::string("/api")}) {
    if (method == "GET") {
      http->Get(prefix + path, handler);
    } else {
      http->Post(prefix + path, handler);
    }
  }
}

}  // namespace

void Gateway::AddPlainRoutes() {
  httplib::Server* h = http_.get();
  Stub* s = stub_.get();
  auto ctx = [this](const httplib::Request& r) { return Context(r); };
  // Sessions, users, databases.
  Forward(h, s, ctx, "POST", "/login", &Stub::Login);
  Forward(h, s, ctx, "POST", "/logout", &Stub::Logout);
  Forward(h, s, ctx, "GET", "/health", &Stub::Health);
  Forward(h, s, ctx, "GET", "/serverinfo", &Stub::ServerInfo);
  Forward(h, s, ctx, "GET", "/user/list", &Stub::ListUsers);
  Forward(h, s, ctx, "POST", "/user", &Stub::CreateUser);
  Forward(h, s, ctx, "POST", "/user/password/change", &Stub::ChangePassword);
  Forward(h, s, ctx, "POST", "/user/changepermission", &Stub::ChangePermission);
  Forward(h, s, ctx, "POST", "/user/setactiveUser", &Stub::SetActiveUser);
  Forward(h, s, ctx, "GET", "/db/use/([^/]+)", &Stub::UseDatabase, {"databaseName"});
  Forward(h, s, ctx, "POST", "/db/list", &Stub::DatabaseList);
  Forward(h, s, ctx, "POST", "/db/list/v2", &Stub::DatabaseListV2);
  Forward(h, s, ctx, "POST", "/db/create", &Stub::CreateDatabase);
  Forward(h, s, ctx, "POST", "/db/create/v2", &Stub::CreateDatabaseV2);
  Forward(h, s, ctx, "GET", "/db/state", &Stub::CurrentState);
  Forward(h, s, ctx, "GET", "/db/health", &Stub::DatabaseHealth);
  // Keys, references, sorted sets.
  Forward(h, s, ctx, "POST", "/db/set", &Stub::Set);
  Forward(h, s, ctx, "GET", "/db/get/(.+)", &Stub::Get, {"key"});
  Forward(h, s, ctx, "POST", "/db/getall", &Stub::GetAll);
  Forward(h, s, ctx, "POST", "/db/deletekey", &Stub::Delete);
  Forward(h, s, ctx, "POST", "/db/execall", &Stub::ExecAll);
  Forward(h, s, ctx, "POST", "/db/scan", &Stub::Scan);
  Forward(h, s, ctx, "GET", "/db/count/(.+)", &Stub::Count, {"prefix"});
  Forward(h, s, ctx, "GET", "/db/countall", &Stub::CountAll);
  Forward(h, s, ctx, "POST", "/db/history", &Stub::History);
  Forward(h, s, ctx, "POST", "/db/setreference", &Stub::SetReference);
  Forward(h, s, ctx, "POST", "/db/zadd", &Stub::ZAdd);
  Forward(h, s, ctx, "POST", "/db/zscan", &Stub::ZScan);
  // Transactions.
  Forward(h, s, ctx, "GET", "/db/tx/([0-9]+)", &Stub::TxById, {"tx"});
  Forward(h, s, ctx, "POST", "/db/tx", &Stub::TxScan);
  // Verifiable calls, unverified: the caller checks the proofs itself.
  Forward(h, s, ctx, "POST", "/db/verifiable/set", &Stub::VerifiableSet);
  Forward(h, s, ctx, "POST", "/db/verifiable/get", &Stub::VerifiableGet);
  Forward(h, s, ctx, "POST", "/db/verifiable/setreference", &Stub::VerifiableSetReference);
  Forward(h, s, ctx, "POST", "/db/verifiable/zadd", &Stub::VerifiableZAdd);
  Forward(h, s, ctx, "GET", "/db/verifiable/tx/([0-9]+)", &Stub::VerifiableTxById, {"tx"});
}

Status Gateway::Start() {
  if (http_) return Status::FailedPrecondition("gateway already started");
  http_ = std::make_unique<httplib::Server>();
  AddPlainRoutes();
  AddSafeRoutes();
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    if (!auditor_) {
      WriteError(res, grpc::StatusCode::NOT_FOUND, "audit is not enabled (--audit)");
      return;
    }
    res.set_content(auditor_->Metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      WriteError(res, grpc::StatusCode::NOT_FOUND, "Not Found");
    }
  });
  port_ = options_.port == 0
              ? http_->bind_to_any_port(options_.address)
              : (http_->bind_to_port(options_.address, options_.port) ? options_.port : -1);
  if (port_ <= 0) {
    http_.reset();
    return Status::Unavailable("immugw: cannot listen on " + options_.address + ":" +
                               std::to_string(options_.port));
  }
  httplib::Server* server = http_.get();
  thread_ = std::thread([server] { server->listen_after_bind(); });
  for (int i = 0; i < 5000 && !server->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (auditor_) IMMUDB_RETURN_IF_ERROR(auditor_->Start());
  return Status::OK();
}

void Gateway::Stop() {
  if (auditor_) auditor_->Stop();
  if (http_) {
    http_->stop();
    if (thread_.joinable()) thread_.join();
    http_.reset();
  }
}

}  // namespace immudb::gateway
