#include "server/server.h"

#include <dlfcn.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "immudb/env.h"
#include "server/identity.h"
#include "server/metrics.h"
#include "server/password.h"
#include "server/queued_methods.h"

namespace immudb::server {
namespace {

Result<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerConfig& c) {
  if (c.certificate.empty()) return grpc::InsecureServerCredentials();
  FileSystem* fs = FileSystem::Default();
  grpc::SslServerCredentialsOptions opts(
      c.mtls ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
             : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  auto cert = ReadFileToString(fs, c.certificate);
  if (!cert.ok()) return cert.status().WithPrefix("certificate");
  auto key = ReadFileToString(fs, c.pkey);
  if (!key.ok()) return key.status().WithPrefix("pkey");
  opts.pem_key_cert_pairs.push_back({*key, *cert});
  if (!c.clientcas.empty()) {
    auto cas = ReadFileToString(fs, c.clientcas);
    if (!cas.ok()) return cas.status().WithPrefix("clientcas");
    opts.pem_root_certs = *cas;
  }
  return grpc::SslServerCredentials(opts);
}

// --grpc-reflection=false: drops the reflection plugin, which the binary's
// grpc++_reflection library registers for every server it builds.
class NoReflectionOption : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    std::erase_if(*plugins, [](const auto& p) { return p->name() == "proto_server_reflection"; });
  }
};

// The malloc this process runs on, for the startup log: jemalloc when the
// binary links it (its mallctl is then visible), else the C library's.
std::string AllocatorName() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl == nullptr) return "glibc malloc";
  const char* version = nullptr;
  size_t len = sizeof(version);
  if (mallctl("version", &version, &len, nullptr, 0) != 0 || version == nullptr) {
    return "jemalloc";
  }
  return std::string("jemalloc ") + version;
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Open(const ServerConfig& config) {
  std::unique_ptr<Server> s(new Server());
  IMMUDB_RETURN_IF_ERROR(s->Init(config));
  return s;
}

Status Server::Init(const ServerConfig& config) {
  state_.config = config;
  // The key is checked before the data directory is touched.
  if (!config.signing_key.empty()) {
    IMMUDB_ASSIGN_OR_RETURN(state_.signer, StateSigner::FromFile(config.signing_key));
    spdlog::info("state signing enabled with key {}", config.signing_key);
  }
  spdlog::info("memory allocator: {}", AllocatorName());
  state_.started_at = static_cast<int64_t>(std::time(nullptr));
  IMMUDB_RETURN_IF_ERROR(FileSystem::Default()->CreateDir(config.dir));
  IMMUDB_ASSIGN_OR_RETURN(state_.uuid, LoadOrCreateServerId(config.dir));
  DatabaseOptions opts;
  opts.store.synced = config.synced;
  opts.store.now_unix_seconds = config.now_unix_seconds;
  DbSettings defaultdb;
  if (config.replication_is_replica) {
    defaultdb.replica = true;
    defaultdb.primary_host = config.replication_primary_host;
    defaultdb.primary_port = static_cast<uint32_t>(config.replication_primary_port);
    defaultdb.primary_database = kDefaultDb;
    defaultdb.primary_username = config.replication_primary_username;
    defaultdb.primary_password = config.replication_primary_password;
  }
  IMMUDB_ASSIGN_OR_RETURN(state_.dbs, DatabaseManager::Open(config.dir, opts, defaultdb));
  IMMUDB_ASSIGN_OR_RETURN(state_.users, UserStore::Open(state_.dbs->systemdb()->db.get()));

  IMMUDB_ASSIGN_OR_RETURN(std::string admin_pw, DecodeAdminPassword(config.admin_password));
  if (admin_pw.empty()) return Status::InvalidArgument("Admin password cannot be empty");
  auto admin = state_.users->Get(kSysAdminUser);
  if (!admin.ok() || config.force_admin_password) {
    UserRecord u = admin.ok() ? std::move(admin).value() : UserRecord{};
    if (!admin.ok()) {
      u.username = kSysAdminUser;
      u.permissions["*"] = kPermSysAdmin;
      u.created_by = kSysAdminUser;
      u.created_at = NowTimeString();
    }
    IMMUDB_ASSIGN_OR_RETURN(u.hashed_password, HashPassword(admin_pw));
    IMMUDB_RETURN_IF_ERROR(state_.users->Put(u));
    spdlog::info("sysadmin user '{}' {}", kSysAdminUser, admin.ok() ? "password reset" : "created");
  }
  bool other_users = false;
  for (const UserRecord& u : state_.users->List()) other_users |= u.username != kSysAdminUser;
  state_.multi_db = state_.dbs->HasUserDatabases() || other_users;
  // As immudb: with user databases or users other than the sysadmin (multi-db
  // mode), authentication cannot be turned off.
  if (!config.auth && state_.multi_db) {
    return Status::InvalidArgument(
        "authentication must be on: the server has user databases or users other than " +
        std::string(kSysAdminUser));
  }
  const auto token_lifetime =
      config.token_expiry_ms_override > 0
          ? std::chrono::milliseconds(config.token_expiry_ms_override)
          : std::chrono::milliseconds(std::chrono::minutes(config.token_expiry_minutes));
  state_.tokens = std::make_unique<TokenManager>(token_lifetime);
  SessionOptions so;
  so.max_sessions = static_cast<size_t>(config.max_sessions);
  so.timeout = std::chrono::milliseconds(config.session_timeout_ms);
  so.max_age = std::chrono::milliseconds(config.max_session_age_ms);
  so.guard_interval = std::chrono::milliseconds(config.sessions_guard_check_interval_ms);
  state_.sessions = std::make_unique<SessionManager>(so);
  // Every handler adds the immudb-uuid header and records itself in the RPC
  // metrics (CallRecord); gRPC interceptors did it before, at 5-10 us of
  // server CPU per call.
  rpc_metrics_.set_histograms(!config.no_histograms);
  state_.rpc_metrics = &rpc_metrics_;
  service_ = std::make_unique<ImmuServiceImpl>(&state_);
  auth_service_ = std::make_unique<AuthorizationServiceImpl>(service_.get());
  return Status::OK();
}

Status Server::Start() {
  IMMUDB_ASSIGN_OR_RETURN(auto creds, Credentials(state_.config));
  grpc::ServerBuilder builder;
  const std::string addr = state_.config.address + ":" + std::to_string(state_.config.port);
  builder.AddListeningPort(addr, creds, &port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(state_.config.max_recv_msg_size));
  if (state_.config.grpc_dispatch == "queues") {
    // No other service: any thread waiting on one of the server's queues may
    // read the sockets, so only our queue threads may wait on one.
    SetQueuedCommitHere(!state_.config.synced);
    if (state_.config.grpc_reflection) {
      // Served from our queues too, listing what the plugin lists in callback mode.
      reflection_ = std::make_unique<ReflectionServiceImpl>(
          &state_, service_->stream_pool(),
          std::vector<std::string>{"immudb.schema.ImmuService", "immudb.model.AuthorizationService",
                                   "grpc.reflection.v1alpha.ServerReflection"});
    }
    queued_ = std::make_unique<QueuedServer>(
        QueuedMethods(service_.get(), auth_service_.get(), reflection_.get()), &builder,
        state_.config.grpc_dispatch_threads);
    builder.SetOption(std::make_unique<NoReflectionOption>());
  } else {
    builder.RegisterService(service_.get());
    builder.RegisterService(auth_service_.get());
    if (!state_.config.grpc_reflection) builder.SetOption(std::make_unique<NoReflectionOption>());
  }
  grpc_ = builder.BuildAndStart();
  if (!grpc_ || port_ == 0) return Status::Unavailable("cannot listen on " + addr);
  if (queued_) {
    queued_->Start();
    spdlog::info("gRPC calls served from {} completion queue thread(s) of our own",
                 state_.config.grpc_dispatch_threads);
  }
  spdlog::info("immudb {} listening on {}:{} (server uuid {})", IMMUDB_VERSION,
               state_.config.address, port_, state_.uuid);
  replication_ = std::make_unique<ReplicationManager>(state_.dbs.get());
  truncation_ = std::make_unique<TruncationManager>(
      std::chrono::milliseconds(state_.config.truncation_frequency_ms_override));
  state_.dbs->SetListener(truncation_.get());
  if (state_.config.metrics_server) {
    metrics_ = std::make_unique<MetricsServer>(&state_, &rpc_metrics_);
    // As immudb does, a metrics port that cannot be bound is logged and the
    // gRPC server keeps running.
    Status st = metrics_->Start(state_.config.address, state_.config.metrics_server_port);
    if (st.ok()) {
      spdlog::info("metrics server listening on {}:{} (/metrics, /readyz, /livez)",
                   state_.config.address, metrics_->port());
    } else {
      spdlog::error("{}", st.message());
      metrics_.reset();
    }
  }
  if (state_.config.web_server) StartWebServer();
  return Status::OK();
}

void Server::StartWebServer() {
  const ServerConfig& c = state_.config;
  // REST calls go through the same gRPC services: the same authentication,
  // checks and errors. In process, except with authentication off and no
  // TLS: then over loopback TCP, so the handlers see a local caller (the
  // gateway itself refuses remote HTTP clients unless --devmode).
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  std::shared_ptr<grpc::Channel> channel;
  if (!c.auth && c.certificate.empty()) {
    std::string host = c.address;
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "::1";
    if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
    channel = grpc::CreateCustomChannel(host + ":" + std::to_string(port_),
                                        grpc::InsecureChannelCredentials(), args);
  } else {
    channel = grpc_->InProcessChannel(args);
  }
  web_ = std::make_unique<RestGateway>(std::move(channel));
  RestGatewayOptions o;
  o.address = c.address;
  o.port = c.web_server_port;
  o.certificate = c.certificate;
  o.pkey = c.pkey;
  o.mtls = c.mtls;
  o.clientcas = c.clientcas;
  o.swagger_ui = c.swaggerui;
  o.local_clients_only = !c.auth && !c.devmode;
  // JSON carries bytes as base64: allow for that on top of the gRPC limit.
  o.max_body_bytes = static_cast<size_t>(c.max_recv_msg_size) * 2;
  // As immudb does, a web port that cannot be bound is logged and the gRPC
  // server keeps running.
  Status st = web_->Start(o);
  if (!st.ok()) {
    spdlog::error("{}", st.message());
    web_.reset();
    return;
  }
  spdlog::info("web server listening on {}:{} (REST API under /api, {}){}", c.address, web_->port(),
               c.certificate.empty() ? "http" : "https",
               c.swaggerui ? ", OpenAPI document at /api/docs/swagger.json" : "");
}

void Server::Wait() {
  if (grpc_) grpc_->Wait();
}

Status Server::Shutdown() {
  std::lock_guard<std::mutex> l(mu_);
  if (shut_down_) return Status::OK();
  shut_down_ = true;
  // The web server first: its requests are gRPC calls that must finish
  // before the gRPC server goes away.
  if (web_) web_->Stop();
  if (metrics_) metrics_->Stop();
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  // No call in progress any more: the queues are drained and their threads stop.
  if (queued_) queued_->Shutdown();
  replication_.reset();  // Before the databases close.
  if (truncation_) {     // Wakes every truncator: no waiting for a period to end.
    state_.dbs->SetListener(nullptr);
    truncation_->StopAll();
  }
  return state_.dbs ? state_.dbs->CloseAll() : Status::OK();
}

Server::~Server() { (void)Shutdown(); }

}  // namespace immudb::server
