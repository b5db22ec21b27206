// Gateway: setup, the HTTP server and the plain (forwarded) routes.
#include "cmd/immugw/gateway.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "client/channel.h"
#include "cmd/immugw/rest_json.h"

namespace immudb::gateway {
namespace {

using google::protobuf::Empty;
using Stub = schema::ImmuService::Stub;

template <class Req, class Resp>
using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

std::string StateFileName(const ServerOptions& o) {
  std::string name = ".immugw-state-" + o.address + "-" + std::to_string(o.port);
  for (char& c : name) {
    if (c == '/' || c == ':') c = '_';
  }
  return name;
}

bool ValidName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// The default server as a ServerOptions.
ServerOptions DefaultServer(const GatewayOptions& o) {
  ServerOptions d;
  d.name = kDefaultServer;
  d.address = o.immudb_address;
  d.port = o.immudb_port;
  return d;
}

}  // namespace

Status CheckServers(const GatewayOptions& options) {
  std::set<std::string> names = {kDefaultServer};
  std::map<std::string, std::string> targets = {
      {options.immudb_address + ":" + std::to_string(options.immudb_port), kDefaultServer}};
  for (const ServerOptions& s : options.servers) {
    if (!ValidName(s.name)) {
      return Status::InvalidArgument("server name \"" + s.name +
                                     "\": use letters, digits, '-' and '_'");
    }
    if (!names.insert(s.name).second) {
      return Status::InvalidArgument(
          s.name == kDefaultServer
              ? std::string(
                    "server name \"default\" is reserved for --immudb-address/--immudb-port")
              : "server " + s.name + " is given twice");
    }
    if (s.address.empty()) return Status::InvalidArgument("server " + s.name + ": empty address");
    if (s.port <= 0 || s.port > 65535) {
      return Status::InvalidArgument("server " + s.name + ": port " + std::to_string(s.port) +
                                     " is not 1..65535");
    }
    const std::string target = s.address + ":" + std::to_string(s.port);
    auto [it, added] = targets.emplace(target, s.name);
    if (!added) {
      return Status::InvalidArgument("server " + s.name + " (" + target + ") is server " +
                                     it->second + " again");
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<Gateway>> Gateway::Create(GatewayOptions options) {
  if (options.dir.empty()) options.dir = ".";
  IMMUDB_RETURN_IF_ERROR(CheckServers(options));
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Status::IOError("cannot create directory " + options.dir + ": " + ec.message());
  auto gw = std::unique_ptr<Gateway>(new Gateway(std::move(options)));
  std::vector<ServerOptions> servers = {DefaultServer(gw->options_)};
  servers.insert(servers.end(), gw->options_.servers.begin(), gw->options_.servers.end());
  for (ServerOptions& s : servers) {
    IMMUDB_ASSIGN_OR_RETURN(std::unique_ptr<Backend> b, gw->MakeBackend(std::move(s)));
    gw->backends_.push_back(std::move(b));
  }
  return gw;
}

Result<std::unique_ptr<Gateway::Backend>> Gateway::MakeBackend(ServerOptions server) const {
  if (server.server_signing_pub_key.empty()) {
    server.server_signing_pub_key = options_.server_signing_pub_key;
  }
  std::unique_ptr<client::SignatureVerifier> verifier;
  if (!server.server_signing_pub_key.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(verifier,
                            client::SignatureVerifier::FromFile(server.server_signing_pub_key));
  }
  // The channel to immudb (TLS when asked): bad TLS settings fail here,
  // naming the file.
  client::Options co;
  co.address = server.address;
  co.port = server.port;
  co.tls = options_.tls;
  co.max_recv_msg_size = options_.max_recv_msg_size;
  IMMUDB_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, client::MakeChannel(co));
  std::unique_ptr<client::Auditor> auditor;
  if (options_.audit) {
    client::AuditorOptions a = options_.audit_options;
    a.client.address = server.address;
    a.client.port = server.port;
    a.client.server_signing_pub_key = server.server_signing_pub_key;
    a.client.tls = options_.tls;
    a.client.timeout = options_.timeout;
    if (server.audit_username) a.username = *server.audit_username;
    if (server.audit_password) a.password = *server.audit_password;
    a.state_dir = options_.dir + "/auditor";
    a.monitoring_port = -1;  // Its metrics are on the gateway's /metrics.
    if (server.name != kDefaultServer && a.log) {
      a.log = [log = a.log, name = server.name](const std::string& line) {
        log("server " + name + ": " + line);
      };
    }
    IMMUDB_ASSIGN_OR_RETURN(auditor, client::Auditor::Create(std::move(a)));
  }
  const std::string state_file = options_.dir + "/" + StateFileName(server);
  auto b = std::make_unique<Backend>(std::move(server), std::move(verifier), std::move(channel),
                                     state_file);
  b->auditor = std::move(auditor);
  return b;
}

Gateway::Backend::Backend(ServerOptions o, std::unique_ptr<client::SignatureVerifier> v,
                          std::shared_ptr<grpc::Channel> c, std::string state_file)
    : options(std::move(o)),
      verifier(std::move(v)),
      channel(std::move(c)),
      stub(schema::ImmuService::NewStub(channel)),
      store(std::move(state_file)) {}

Gateway::Gateway(GatewayOptions options) : options_(std::move(options)) {}

Gateway::~Gateway() { Stop(); }

const Gateway::Backend* Gateway::Find(const std::string& name) const {
  for (const auto& b : backends_) {
    if (b->options.name == name) return b.get();
  }
  return nullptr;
}

client::Auditor* Gateway::auditor(const std::string& name) {
  const Backend* b = Find(name);
  return b == nullptr ? nullptr : b->auditor.get();
}

std::string Gateway::state_path(const std::string& name) const {
  const Backend* b = Find(name);
  return b == nullptr ? std::string() : b->store.path();
}

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

// Where Forward registers routes: the server, the backend's stub, how a
// call's context is made, and the path prefix of the backend.
struct RouteTarget {
  httplib::Server* http;
  Stub* stub;
  std::function<std::unique_ptr<grpc::ClientContext>(const httplib::Request&)> context;
  std::string prefix;
};

// Registers `rpc` at prefix + path (and prefix + "/api" + path). `params`
// names the request fields the regex groups of `path` fill; GET routes also
// take the query.
template <class Req, class Resp>
void Forward(const RouteTarget& t, const std::string& method, const std::string& path,
             Rpc<Req, Resp> rpc, std::vector<std::string> params = {}) {
  auto handler = [stub = t.stub, context = t.context, rpc, params, method](
                     const httplib::Request& hreq, httplib::Response& hres) {
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
  for (const std::string& api : {std::string(), std::string("/api")}) {
    if (method == "GET") {
      t.http->Get(t.prefix + api + path, handler);
    } else {
      t.http->Post(t.prefix + api + path, handler);
    }
  }
}

}  // namespace

void Gateway::AddPlainRoutes(Backend& b, const std::string& prefix) {
  const RouteTarget t{http_.get(), b.stub.get(),
                      [this](const httplib::Request& r) { return Context(r); }, prefix};
  // Sessions, users, databases.
  Forward(t, "POST", "/login", &Stub::Login);
  Forward(t, "POST", "/logout", &Stub::Logout);
  Forward(t, "GET", "/health", &Stub::Health);
  Forward(t, "GET", "/serverinfo", &Stub::ServerInfo);
  Forward(t, "GET", "/user/list", &Stub::ListUsers);
  Forward(t, "POST", "/user", &Stub::CreateUser);
  Forward(t, "POST", "/user/password/change", &Stub::ChangePassword);
  Forward(t, "POST", "/user/changepermission", &Stub::ChangePermission);
  Forward(t, "POST", "/user/setactiveUser", &Stub::SetActiveUser);
  Forward(t, "GET", "/db/use/([^/]+)", &Stub::UseDatabase, {"databaseName"});
  Forward(t, "POST", "/db/list", &Stub::DatabaseList);
  Forward(t, "POST", "/db/list/v2", &Stub::DatabaseListV2);
  Forward(t, "POST", "/db/create", &Stub::CreateDatabase);
  Forward(t, "POST", "/db/create/v2", &Stub::CreateDatabaseV2);
  Forward(t, "GET", "/db/state", &Stub::CurrentState);
  Forward(t, "GET", "/db/health", &Stub::DatabaseHealth);
  // Keys, references, sorted sets.
  Forward(t, "POST", "/db/set", &Stub::Set);
  Forward(t, "GET", "/db/get/(.+)", &Stub::Get, {"key"});
  Forward(t, "POST", "/db/getall", &Stub::GetAll);
  Forward(t, "POST", "/db/deletekey", &Stub::Delete);
  Forward(t, "POST", "/db/execall", &Stub::ExecAll);
  Forward(t, "POST", "/db/scan", &Stub::Scan);
  Forward(t, "GET", "/db/count/(.+)", &Stub::Count, {"prefix"});
  Forward(t, "GET", "/db/countall", &Stub::CountAll);
  Forward(t, "POST", "/db/history", &Stub::History);
  Forward(t, "POST", "/db/setreference", &Stub::SetReference);
  Forward(t, "POST", "/db/zadd", &Stub::ZAdd);
  Forward(t, "POST", "/db/zscan", &Stub::ZScan);
  // Transactions.
  Forward(t, "GET", "/db/tx/([0-9]+)", &Stub::TxById, {"tx"});
  Forward(t, "POST", "/db/tx", &Stub::TxScan);
  // Verifiable calls, unverified: the caller checks the proofs itself.
  Forward(t, "POST", "/db/verifiable/set", &Stub::VerifiableSet);
  Forward(t, "POST", "/db/verifiable/get", &Stub::VerifiableGet);
  Forward(t, "POST", "/db/verifiable/setreference", &Stub::VerifiableSetReference);
  Forward(t, "POST", "/db/verifiable/zadd", &Stub::VerifiableZAdd);
  Forward(t, "GET", "/db/verifiable/tx/([0-9]+)", &Stub::VerifiableTxById, {"tx"});
}

void Gateway::AddRoutes(Backend& b, const std::string& prefix) {
  AddPlainRoutes(b, prefix);
  AddSafeRoutes(b, prefix);
  client::Auditor* auditor = b.auditor.get();
  http_->Get(prefix + "/metrics", [auditor](const httplib::Request&, httplib::Response& res) {
    if (auditor == nullptr) {
      WriteError(res, grpc::StatusCode::NOT_FOUND, "audit is not enabled (--audit)");
      return;
    }
    res.set_content(auditor->Metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

Status Gateway::Start() {
  if (http_) return Status::FailedPrecondition("gateway already started");
  http_ = std::make_unique<httplib::Server>();
  // One route table per server: the default one also without a prefix.
  AddRoutes(*backends_.front(), "");
  for (const auto& b : backends_) AddRoutes(*b, "/servers/" + b->options.name);
  auto unknown = [this](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1].str();
    if (Find(name) != nullptr) {
      WriteError(res, grpc::StatusCode::NOT_FOUND, "Not Found");
      return;
    }
    std::string known;
    for (const auto& b : backends_) known += (known.empty() ? "" : ", ") + b->options.name;
    WriteError(res, grpc::StatusCode::NOT_FOUND,
               "unknown server '" + name + "' (configured: " + known + ")");
  };
  for (const char* path : {"/servers/([^/]*)", "/servers/([^/]*)/.*"}) {
    http_->Get(path, unknown);
    http_->Post(path, unknown);
  }
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
  for (const auto& b : backends_) {
    if (b->auditor) IMMUDB_RETURN_IF_ERROR(b->auditor->Start());
  }
  return Status::OK();
}

void Gateway::Stop() {
  for (const auto& b : backends_) {
    if (b->auditor) b->auditor->Stop();
  }
  if (http_) {
    http_->stop();
    if (thread_.joinable()) thread_.join();
    http_.reset();
  }
}

}  // namespace immudb::gateway
