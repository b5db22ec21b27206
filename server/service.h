// ImmuServiceImpl: the immudb.schema.ImmuService handlers. Each handler checks
// the caller (Authorize*), validates the request, calls the engine and turns
// engine Status values into grpc::Status at the end (server/errors.h).
// Handlers are split by concern: users_service.cc, db_service.cc,
// kv_service.cc, unimplemented_service.cc. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "authorization.grpc.pb.h"
#include "schema.grpc.pb.h"
#include "server/blocking_pool.h"
#include "server/callback.h"
#include "server/config.h"
#include "server/db_manager.h"
#include "server/metrics.h"
#include "server/queued_dispatch.h"
#include "server/sessions.h"
#include "server/state_signer.h"
#include "server/tokens.h"
#include "server/users.h"

namespace immudb::server {

// What a method needs on the selected database (wire-api.md §5.5): the
// permission levels that may call it, and whether it is one of the calls
// immudb lets through in maintenance mode and on `systemdb` (its
// "maintenance methods", pkg/auth/permissions.go).
enum class Access {
  kRead,      // Read, read-write or admin; allowed there (Get, Scan, TxById, CurrentState...).
  kReadInfo,  // Read, read-write or admin; not allowed there (DatabaseHealth, settings).
  kReadAll,   // Read-write or admin; allowed there (GetAll, as immudb's tables say).
  kWrite,     // Read-write or admin; not allowed there.
  kAdmin,     // Admin; allowed there (FlushIndex, CompactIndex, exportTx, replicateTx).
};
// True for the accesses allowed in maintenance mode and on systemdb.
bool ReadOnlyAllowed(Access access);

// The state shared by all handlers.
struct ServerState {
  ServerConfig config;
  std::string uuid;
  int64_t started_at = 0;  // Unix seconds.
  std::unique_ptr<DatabaseManager> dbs;
  std::unique_ptr<UserStore> users;
  std::unique_ptr<TokenManager> tokens;
  std::unique_ptr<StateSigner> signer;  // nullptr without --signingKey.
  std::unique_ptr<SessionManager> sessions;
  std::atomic<bool> multi_db{false};
  RpcMetrics* rpc_metrics = nullptr;  // Owned by the Server; null: calls are not recorded.
};

// What every call does besides its handler: the `immudb-uuid` header on its
// response (wire-api.md §4.2, errors included), and its time and status code
// in the RPC metrics once it ends. Begin on the gRPC thread that started the
// call, before anything is sent; End with the status the call finishes with.
class CallRecord {
 public:
  CallRecord(const ServerState* s, grpc::ServerContextBase* ctx, const std::string* method)
      : s_(s), method_(method), start_(std::chrono::steady_clock::now()) {
    ctx->AddInitialMetadata("immudb-uuid", s->uuid);
  }
  grpc::Status End(grpc::Status st) const {
    if (s_->rpc_metrics != nullptr) {
      const std::chrono::duration<double> d = std::chrono::steady_clock::now() - start_;
      s_->rpc_metrics->Observe(*method_, d.count(), static_cast<int>(st.error_code()));
    }
    return st;
  }

 private:
  const ServerState* s_;
  const std::string* method_;  // Full gRPC path, "/immudb.schema.ImmuService/Get".
  std::chrono::steady_clock::time_point start_;
};

// The authenticated caller of an RPC.
struct Caller {
  UserRecord user;
  std::string database;  // Selected database, "" when none.
  std::string token;
  std::string session_id;  // Set when the call carried `sessionid`.
};

// The value of a client metadata key ("" when absent).
std::string CallMetadata(const grpc::ServerContextBase* ctx, const char* key);
// The same value in place: valid for as long as the call.
std::string_view CallMetadataView(const grpc::ServerContextBase* ctx, const char* key);

// In a callback override with `ctx`, of a class with kServicePath and
// state(): begins the call's CallRecord `call` (every override must).
#define IMMUDB_RECORD_CALL(name)                                      \
  static const std::string kPath = std::string(kServicePath) + #name; \
  const CallRecord call(state(), ctx, &kPath)

// The declarations of one method of a generated CallbackService: the
// callback override, which runs Do<name> (declared here, defined in the
// handler's .cc file as a plain blocking function) inline on the gRPC thread
// or on the class's blocking pool (server/callback.h), and Do<name> itself.
// INLINE is for calls that answer at once from memory or a short read, WRITE
// for commits; everything else that may wait (the index, a password hash) or
// run long (scans) is POOLED. `mode` names the class's RunInline, RunPooled
// or RunWrite.
// Queued<name> is the same for --grpc-dispatch=queues (server/queued_dispatch.h):
// `mode` then runs the body on the queue thread or on the pool.
#define IMMUDB_UNARY(mode, name, Req, Resp)                                                        \
  grpc::ServerUnaryReactor* name(grpc::CallbackServerContext* ctx, const Req* req, Resp* resp)     \
      override {                                                                                   \
    IMMUDB_RECORD_CALL(name);                                                                      \
    return mode(ctx, [this, ctx, req, resp, call] { return call.End(Do##name(ctx, req, resp)); }); \
  }                                                                                                \
  void Queued##name(QueuedCall* q, const Req* req, Resp* resp) {                                   \
    grpc::ServerContextBase* ctx = q->ctx();                                                       \
    IMMUDB_RECORD_CALL(name);                                                                      \
    mode(q, [this, ctx, req, resp, call] { return call.End(Do##name(ctx, req, resp)); });          \
  }                                                                                                \
  grpc::Status Do##name(grpc::ServerContextBase* ctx, const Req* req, Resp* resp)
#define IMMUDB_UNARY_INLINE(name, Req, Resp) IMMUDB_UNARY(RunInline, name, Req, Resp)
#define IMMUDB_UNARY_POOLED(name, Req, Resp) IMMUDB_UNARY(RunPooled, name, Req, Resp)
// A write: inline while no other write runs inline (a lone writer is
// answered without a thread hand-off, blocking one gRPC thread for its
// commit), else POOLED.
#define IMMUDB_UNARY_WRITE(name, Req, Resp) IMMUDB_UNARY(RunWrite, name, Req, Resp)

// Server streaming: Do<name> writes its messages through `writer`.
#define IMMUDB_SERVER_STREAM(name, Req, W)                                                       \
  grpc::ServerWriteReactor<W>* name(grpc::CallbackServerContext* ctx, const Req* req) override { \
    IMMUDB_RECORD_CALL(name);                                                                    \
    return StartBlockingStream<BlockingWriteReactor<W>>(                                         \
        stream_pool(), [this, ctx, req, call](grpc::ServerWriterInterface<W>* w) {               \
          return call.End(Do##name(ctx, req, w));                                                \
        });                                                                                      \
  }                                                                                              \
  grpc::Status Do##name(grpc::ServerContextBase* ctx, const Req* req,                            \
                        grpc::ServerWriterInterface<W>* writer)

// Client streaming: Do<name> reads the messages through `reader`.
#define IMMUDB_CLIENT_STREAM(name, R, Resp)                                                   \
  grpc::ServerReadReactor<R>* name(grpc::CallbackServerContext* ctx, Resp* resp) override {   \
    IMMUDB_RECORD_CALL(name);                                                                 \
    return StartBlockingStream<BlockingReadReactor<R>>(                                       \
        stream_pool(), [this, ctx, resp, call](grpc::ServerReaderInterface<R>* r) {           \
          return call.End(Do##name(ctx, r, resp));                                            \
        });                                                                                   \
  }                                                                                           \
  grpc::Status Do##name(grpc::ServerContextBase* ctx, grpc::ServerReaderInterface<R>* reader, \
                        Resp* resp)

// In an ImmuServiceImpl handler with `ctx`: authorizes the call for `access`
// on the selected database (returning the error otherwise), holds it as a
// request in progress (DbRef `var`_r) and names its Database `var`.
#define IMMUDB_DB_OR_RETURN(var, access)                    \
  auto var##_r = AuthorizeDb(ctx, access);                  \
  if (!var##_r.ok()) return ToGrpcStatus(var##_r.status()); \
  Database* var = (*var##_r)->db.get()

// What OpenSession returns (both services).
struct OpenedSession {
  std::string id;
  int64_t expires_at = 0;   // Unix seconds; 0 = no age limit.
  int64_t inactive_at = 0;  // Unix seconds, if idle from now on.
};

// The run modes of the IMMUDB_UNARY_INLINE and IMMUDB_UNARY_POOLED methods of
// both services, for both APIs: `Call` is the callback API's
// grpc::CallbackServerContext (server/callback.h) or a QueuedCall of
// --grpc-dispatch=queues (server/queued_dispatch.h). `Service` has pool().
template <class Service>
class UnaryRunModes {
 public:
  template <class Call, class Body>
  auto RunInline(Call* call, Body body) {
    return FinishInline(call, std::move(body));
  }
  template <class Call, class Body>
  auto RunPooled(Call* call, Body body) {
    return FinishOnPool(static_cast<Service*>(this)->pool(), call, std::move(body));
  }
};

class ImmuServiceImpl final : public immudb::schema::ImmuService::CallbackService,
                              public UnaryRunModes<ImmuServiceImpl> {
 public:
  explicit ImmuServiceImpl(ServerState* state) : s_(state) {}
  static constexpr const char* kServicePath = "/immudb.schema.ImmuService/";
  const ServerState* state() const { return s_; }

  // The threads of the POOLED methods (shared with AuthorizationServiceImpl).
  BlockingPool* pool() { return &blocking_; }
  // The threads of the streams. A stream holds its thread for as long as its
  // client keeps it open, so streams have a pool of their own: streams waiting
  // on slow or idle clients cannot take the threads unary calls need.
  BlockingPool* stream_pool() { return &stream_blocking_; }
  // The write run mode of the IMMUDB_UNARY_WRITE methods (the others come
  // from UnaryRunModes); in queues mode a write always runs on the pool: a
  // queue thread blocked in a commit would stall every call of its queue.
  template <class Call, class Body>
  auto RunWrite(Call* call, Body body) {
    return FinishWrite(pool(), &inline_writer_, call, std::move(body));
  }

  // ---- users and login (users_service.cc) ----
  IMMUDB_UNARY_POOLED(Login, schema::LoginRequest, schema::LoginResponse);
  IMMUDB_UNARY_INLINE(Logout, google::protobuf::Empty, google::protobuf::Empty);
  IMMUDB_UNARY_INLINE(ListUsers, google::protobuf::Empty, schema::UserList);
  IMMUDB_UNARY_POOLED(CreateUser, schema::CreateUserRequest, google::protobuf::Empty);
  IMMUDB_UNARY_POOLED(ChangePassword, schema::ChangePasswordRequest, google::protobuf::Empty);
  IMMUDB_UNARY_POOLED(ChangePermission, schema::ChangePermissionRequest, google::protobuf::Empty);
  IMMUDB_UNARY_POOLED(SetActiveUser, schema::SetActiveUserRequest, google::protobuf::Empty);
  IMMUDB_UNARY_POOLED(UpdateAuthConfig, schema::AuthConfig, google::protobuf::Empty);
  IMMUDB_UNARY_POOLED(UpdateMTLSConfig, schema::MTLSConfig, google::protobuf::Empty);

  // ---- sessions (session_service.cc) ----
  IMMUDB_UNARY_POOLED(OpenSession, schema::OpenSessionRequest, schema::OpenSessionResponse);
  IMMUDB_UNARY_INLINE(KeepAlive, google::protobuf::Empty, google::protobuf::Empty);
  IMMUDB_UNARY_INLINE(CloseSession, google::protobuf::Empty, google::protobuf::Empty);
  // Shared with AuthorizationServiceImpl: checks the credentials, the active
  // flag and the permission on `database` ("" = defaultdb), then opens a session.
  grpc::Status OpenSessionFor(const std::string& username, const std::string& password,
                              const std::string& database, OpenedSession* out);
  // The `sessionid` of the call must name an open session.
  grpc::Status KeepSessionAlive(grpc::ServerContextBase* ctx);
  grpc::Status CloseCallerSession(grpc::ServerContextBase* ctx);
  const std::string& server_uuid() const { return s_->uuid; }

  // ---- databases, health, state (db_service.cc) ----
  IMMUDB_UNARY_POOLED(CreateDatabase, schema::Database, google::protobuf::Empty);
  IMMUDB_UNARY_POOLED(CreateDatabaseV2, schema::CreateDatabaseRequest,
                      schema::CreateDatabaseResponse);
  IMMUDB_UNARY_INLINE(DatabaseList, google::protobuf::Empty, schema::DatabaseListResponse);
  IMMUDB_UNARY_INLINE(DatabaseListV2, schema::DatabaseListRequestV2,
                      schema::DatabaseListResponseV2);
  IMMUDB_UNARY_INLINE(UseDatabase, schema::Database, schema::UseDatabaseReply);
  IMMUDB_UNARY_INLINE(Health, google::protobuf::Empty, schema::HealthResponse);
  IMMUDB_UNARY_INLINE(ServerInfo, schema::ServerInfoRequest, schema::ServerInfoResponse);
  IMMUDB_UNARY_INLINE(CurrentState, google::protobuf::Empty, schema::ImmutableState);
  IMMUDB_UNARY_POOLED(FlushIndex, schema::FlushIndexRequest, schema::FlushIndexResponse);
  IMMUDB_UNARY_POOLED(CompactIndex, google::protobuf::Empty, google::protobuf::Empty);
  IMMUDB_UNARY_POOLED(LoadDatabase, schema::LoadDatabaseRequest, schema::LoadDatabaseResponse);
  IMMUDB_UNARY_POOLED(UnloadDatabase, schema::UnloadDatabaseRequest,
                      schema::UnloadDatabaseResponse);
  IMMUDB_UNARY_POOLED(DeleteDatabase, schema::DeleteDatabaseRequest,
                      schema::DeleteDatabaseResponse);
  IMMUDB_UNARY_POOLED(UpdateDatabaseV2, schema::UpdateDatabaseRequest,
                      schema::UpdateDatabaseResponse);
  IMMUDB_UNARY_INLINE(GetDatabaseSettingsV2, schema::DatabaseSettingsRequest,
                      schema::DatabaseSettingsResponse);
  // The deprecated v1 forms of CreateDatabaseV2, UpdateDatabaseV2 and
  // GetDatabaseSettingsV2, with the flat DatabaseSettings message.
  IMMUDB_UNARY_POOLED(CreateDatabaseWith, schema::DatabaseSettings, google::protobuf::Empty);
  IMMUDB_UNARY_POOLED(UpdateDatabase, schema::DatabaseSettings, google::protobuf::Empty);
  IMMUDB_UNARY_INLINE(GetDatabaseSettings, google::protobuf::Empty, schema::DatabaseSettings);
  // Checks the request as immudb does, then answers UNIMPLEMENTED: values
  // live in the transaction log and cannot be discarded.
  IMMUDB_UNARY_INLINE(TruncateDatabase, schema::TruncateDatabaseRequest,
                      schema::TruncateDatabaseResponse);

  // ---- key-value, sorted sets, transactions (kv_service.cc, tx_service.cc) ----
  // Set: while another write blocks a gRPC thread (see FinishWrite), a
  // plain write (no preconditions) is queued in the engine and answered from
  // its commit thread, with no thread of ours waiting for it; otherwise, and
  // when the engine cannot start it at once, it runs as a WRITE.
  grpc::ServerUnaryReactor* Set(grpc::CallbackServerContext* ctx, const schema::SetRequest* req,
                                schema::TxHeader* resp) override;
  // Set from our queues: a plain write is queued in the engine (committed by
  // the queue thread at the end of its group, store::CommitHere, or by
  // whichever thread leads the database's commits then); otherwise DoSet on
  // the pool.
  void QueuedSet(QueuedCall* q, const schema::SetRequest* req, schema::TxHeader* resp);
  grpc::Status DoSet(grpc::ServerContextBase* ctx, const schema::SetRequest* req,
                     schema::TxHeader* resp);
  IMMUDB_UNARY_WRITE(VerifiableSet, schema::VerifiableSetRequest, schema::VerifiableTx);
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const schema::KeyRequest* req,
                                schema::Entry* resp) override {
    // A read that waits for the index to reach sinceTx runs on the pool.
    IMMUDB_RECORD_CALL(Get);
    auto body = [this, ctx, req, resp, call] { return call.End(DoGet(ctx, req, resp)); };
    return req->sincetx() == 0 ? RunInline(ctx, body) : RunPooled(ctx, body);
  }
  void QueuedGet(QueuedCall* q, const schema::KeyRequest* req, schema::Entry* resp) {
    grpc::ServerContextBase* ctx = q->ctx();
    IMMUDB_RECORD_CALL(Get);
    auto body = [this, ctx, req, resp, call] { return call.End(DoGet(ctx, req, resp)); };
    req->sincetx() == 0 ? RunInline(q, body) : RunPooled(q, body);
  }
  grpc::Status DoGet(grpc::ServerContextBase* ctx, const schema::KeyRequest* req,
                     schema::Entry* resp);
  grpc::ServerUnaryReactor* VerifiableGet(grpc::CallbackServerContext* ctx,
                                          const schema::VerifiableGetRequest* req,
                                          schema::VerifiableEntry* resp) override {
    // A read that waits for the index to reach sinceTx runs on the pool.
    IMMUDB_RECORD_CALL(VerifiableGet);
    auto body = [this, ctx, req, resp, call] { return call.End(DoVerifiableGet(ctx, req, resp)); };
    return req->keyrequest().sincetx() == 0 ? RunInline(ctx, body) : RunPooled(ctx, body);
  }
  void QueuedVerifiableGet(QueuedCall* q, const schema::VerifiableGetRequest* req,
                           schema::VerifiableEntry* resp) {
    grpc::ServerContextBase* ctx = q->ctx();
    IMMUDB_RECORD_CALL(VerifiableGet);
    auto body = [this, ctx, req, resp, call] { return call.End(DoVerifiableGet(ctx, req, resp)); };
    req->keyrequest().sincetx() == 0 ? RunInline(q, body) : RunPooled(q, body);
  }
  grpc::Status DoVerifiableGet(grpc::ServerContextBase* ctx,
                               const schema::VerifiableGetRequest* req,
                               schema::VerifiableEntry* resp);
  IMMUDB_UNARY_INLINE(GetAll, schema::KeyListRequest, schema::Entries);
  IMMUDB_UNARY_WRITE(Delete, schema::DeleteKeysRequest, schema::TxHeader);
  IMMUDB_UNARY_WRITE(ExecAll, schema::ExecAllRequest, schema::TxHeader);
  IMMUDB_UNARY_POOLED(Scan, schema::ScanRequest, schema::Entries);
  IMMUDB_UNARY_INLINE(Count, schema::KeyPrefix, schema::EntryCount);
  IMMUDB_UNARY_INLINE(CountAll, google::protobuf::Empty, schema::EntryCount);
  IMMUDB_UNARY_POOLED(History, schema::HistoryRequest, schema::Entries);
  IMMUDB_UNARY_WRITE(SetReference, schema::ReferenceRequest, schema::TxHeader);
  IMMUDB_UNARY_WRITE(VerifiableSetReference, schema::VerifiableReferenceRequest,
                     schema::VerifiableTx);
  IMMUDB_UNARY_WRITE(ZAdd, schema::ZAddRequest, schema::TxHeader);
  IMMUDB_UNARY_WRITE(VerifiableZAdd, schema::VerifiableZAddRequest, schema::VerifiableTx);
  IMMUDB_UNARY_POOLED(ZScan, schema::ZScanRequest, schema::ZEntries);
  IMMUDB_UNARY_INLINE(TxById, schema::TxRequest, schema::Tx);
  IMMUDB_UNARY_INLINE(VerifiableTxById, schema::VerifiableTxRequest, schema::VerifiableTx);
  IMMUDB_UNARY_POOLED(TxScan, schema::TxScanRequest, schema::TxList);
  IMMUDB_UNARY_INLINE(DatabaseHealth, google::protobuf::Empty, schema::DatabaseHealthResponse);

  // ---- streams (stream_service.cc; framing in stream_framing.h) ----
  IMMUDB_SERVER_STREAM(streamGet, schema::KeyRequest, schema::Chunk);
  IMMUDB_CLIENT_STREAM(streamSet, schema::Chunk, schema::TxHeader);
  IMMUDB_SERVER_STREAM(streamVerifiableGet, schema::VerifiableGetRequest, schema::Chunk);
  IMMUDB_CLIENT_STREAM(streamVerifiableSet, schema::Chunk, schema::VerifiableTx);
  IMMUDB_SERVER_STREAM(streamScan, schema::ScanRequest, schema::Chunk);
  IMMUDB_SERVER_STREAM(streamZScan, schema::ZScanRequest, schema::Chunk);
  IMMUDB_SERVER_STREAM(streamHistory, schema::HistoryRequest, schema::Chunk);
  IMMUDB_CLIENT_STREAM(streamExecAll, schema::Chunk, schema::TxHeader);

  // ---- replication (replication_service.cc; docs/format/exported-tx.md) ----
  IMMUDB_SERVER_STREAM(exportTx, schema::ExportTxRequest, schema::Chunk);
  IMMUDB_CLIENT_STREAM(replicateTx, schema::Chunk, schema::TxHeader);
  grpc::ServerBidiReactor<schema::ExportTxRequest, schema::Chunk>* streamExportTx(
      grpc::CallbackServerContext* ctx) override {
    IMMUDB_RECORD_CALL(streamExportTx);
    return StartBlockingStream<BlockingBidiReactor<schema::Chunk, schema::ExportTxRequest>>(
        stream_pool(),
        [this, ctx,
         call](grpc::ServerReaderWriterInterface<schema::Chunk, schema::ExportTxRequest>* s) {
          return call.End(DostreamExportTx(ctx, s));
        });
  }
  grpc::Status DostreamExportTx(
      grpc::ServerContextBase* ctx,
      grpc::ServerReaderWriterInterface<schema::Chunk, schema::ExportTxRequest>* stream);

  // ---- not implemented, with a clear message (unimplemented_service.cc) ----
  // Every RPC of the service has an override: none answers with the
  // generated default (UNIMPLEMENTED with an empty message).
  IMMUDB_UNARY_INLINE(ChangeSQLPrivileges, schema::ChangeSQLPrivilegesRequest,
                      schema::ChangeSQLPrivilegesResponse);
  IMMUDB_UNARY_INLINE(NewTx, schema::NewTxRequest, schema::NewTxResponse);
  IMMUDB_UNARY_INLINE(Commit, google::protobuf::Empty, schema::CommittedSQLTx);
  IMMUDB_UNARY_INLINE(Rollback, google::protobuf::Empty, google::protobuf::Empty);
  IMMUDB_UNARY_INLINE(TxSQLExec, schema::SQLExecRequest, google::protobuf::Empty);
  IMMUDB_SERVER_STREAM(TxSQLQuery, schema::SQLQueryRequest, schema::SQLQueryResult);
  IMMUDB_UNARY_INLINE(SQLExec, schema::SQLExecRequest, schema::SQLExecResult);
  IMMUDB_UNARY_INLINE(UnarySQLQuery, schema::SQLQueryRequest, schema::SQLQueryResult);
  IMMUDB_SERVER_STREAM(SQLQuery, schema::SQLQueryRequest, schema::SQLQueryResult);
  IMMUDB_UNARY_INLINE(ListTables, google::protobuf::Empty, schema::SQLQueryResult);
  IMMUDB_UNARY_INLINE(DescribeTable, schema::Table, schema::SQLQueryResult);
  IMMUDB_UNARY_INLINE(VerifiableSQLGet, schema::VerifiableSQLGetRequest,
                      schema::VerifiableSQLEntry);

 private:
  // Login required (any user); resolves the token and the user's record.
  Result<Caller> Authenticate(grpc::ServerContextBase* ctx) const;
  // The selected database, checked for `access` (getDBFromCtx, §5.5).
  // `caller` (optional) receives the caller; empty user when auth is off.
  Result<DbRef> AuthorizeDb(grpc::ServerContextBase* ctx, Access access,
                            Caller* caller = nullptr) const;
  // AuthorizeDb with auth on and no caller wanted (most calls): the same
  // checks and errors, reading the user's rights without copying its record.
  Result<DbRef> AuthorizeDbRights(grpc::ServerContextBase* ctx, Access access) const;
  // AuthorizeDb's checks once the caller is known: a database is selected
  // and exists, and `level` (the caller's on it; kPermSysAdmin for the
  // sysadmin) allows `access`.
  Result<DbHandle*> SelectedDb(const std::string& database, Access access, bool sysadmin,
                               uint32_t level) const;
  // Set through Database::TrySetAsync; null when the database declined
  // (nothing done, the default reactor untouched).
  grpc::ServerUnaryReactor* TrySetAsync(grpc::CallbackServerContext* ctx,
                                        const schema::SetRequest* req, schema::TxHeader* resp,
                                        const CallRecord& call);
  // The same for a call from our queues; false when the database declined
  // (nothing done, the call not answered).
  bool TrySetAsync(QueuedCall* q, const schema::SetRequest* req, schema::TxHeader* resp,
                   const CallRecord& call);
  // A plain Set's checks (caller, request): on OK, `db` holds the database as
  // a request in progress and `kvs` the entries.
  grpc::Status PrepareSet(grpc::ServerContextBase* ctx, const schema::SetRequest* req,
                          std::optional<DbRef>* db, std::vector<KeyValue>* kvs);
  // Auth-off callers must be local unless --devmode.
  Status CheckLocalWhenAuthOff(grpc::ServerContextBase* ctx) const;
  // Fills `out` with the signature of (db, tx_id, alh) when a signing key is
  // configured; leaves it untouched otherwise (proofs.md §6.3).
  grpc::Status SignState(const std::string& db, uint64_t tx_id, const Hash& alh,
                         schema::Signature* out) const;
  // Signs the target state of a Verifiable* reply: (db, target id, target Alh).
  grpc::Status SignVerifiableTx(const std::string& db, const VerifiableTx& v,
                                schema::VerifiableTx* out) const;

  // Load/Unload/UpdateDatabaseV2: the caller must be sysadmin or admin of
  // `db`, which must be a user database (not reserved).
  grpc::Status AuthorizeDbAdmin(grpc::ServerContextBase* ctx, const std::string& db) const;

  // Drops the tokens and closes the sessions of `username` (password,
  // permission or active-flag change).
  void LogOutEverywhere(const std::string& username);
  // Stores the changed user `u` as last changed by `changed_by` (now), and
  // then logs it out everywhere.
  grpc::Status StoreChangedUser(UserRecord u, const std::string& changed_by);

  ServerState* s_;
  // Bounded, so that a flood of writes queues instead of starting a thread
  // per call; threads start on demand and stay.
  static constexpr size_t kMaxBlockingThreads = 256;
  BlockingPool blocking_{kMaxBlockingThreads};
  static constexpr size_t kMaxStreamThreads = 1024;
  BlockingPool stream_blocking_{kMaxStreamThreads};
  std::atomic<bool> inline_writer_{false};  // A write runs on a gRPC thread (FinishWrite).
};

// immudb.model.AuthorizationService: the session calls, on the same port.
class AuthorizationServiceImpl final : public immudb::model::AuthorizationService::CallbackService,
                                       public UnaryRunModes<AuthorizationServiceImpl> {
 public:
  explicit AuthorizationServiceImpl(ImmuServiceImpl* immu) : immu_(immu) {}
  static constexpr const char* kServicePath = "/immudb.model.AuthorizationService/";
  const ServerState* state() const { return immu_->state(); }
  BlockingPool* pool() { return immu_->pool(); }
  IMMUDB_UNARY_POOLED(OpenSession, model::OpenSessionRequest, model::OpenSessionResponse);
  IMMUDB_UNARY_INLINE(KeepAlive, model::KeepAliveRequest, model::KeepAliveResponse);
  IMMUDB_UNARY_INLINE(CloseSession, model::CloseSessionRequest, model::CloseSessionResponse);

 private:
  ImmuServiceImpl* immu_;
};

}  // namespace immudb::server
