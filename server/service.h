// ImmuServiceImpl: the immudb.schema.ImmuService handlers. Each handler checks
// the caller (Authorize*), validates the request, calls the engine and turns
// engine Status values into grpc::Status at the end (server/errors.h).
// Handlers are split by concern: users_service.cc, db_service.cc,
// kv_service.cc, unimplemented_service.cc. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "authorization.grpc.pb.h"
#include "schema.grpc.pb.h"
#include "server/config.h"
#include "server/db_manager.h"
#include "server/sessions.h"
#include "server/state_signer.h"
#include "server/tokens.h"
#include "server/users.h"

namespace immudb::server {

// What a method needs on the selected database (wire-api.md §5.5).
enum class Access { kRead, kWrite, kAdmin };

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
};

// The authenticated caller of an RPC.
struct Caller {
  UserRecord user;
  std::string database;  // Selected database, "" when none.
  std::string token;
  std::string session_id;  // Set when the call carried `sessionid`.
};

// The value of a client metadata key ("" when absent).
std::string CallMetadata(const grpc::ServerContext* ctx, const char* key);

// What OpenSession returns (both services).
struct OpenedSession {
  std::string id;
  int64_t expires_at = 0;   // Unix seconds; 0 = no age limit.
  int64_t inactive_at = 0;  // Unix seconds, if idle from now on.
};

class ImmuServiceImpl final : public immudb::schema::ImmuService::Service {
 public:
  explicit ImmuServiceImpl(ServerState* state) : s_(state) {}

  // ---- users and login (users_service.cc) ----
  grpc::Status Login(grpc::ServerContext* ctx, const schema::LoginRequest* req,
                     schema::LoginResponse* resp) override;
  grpc::Status Logout(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                      google::protobuf::Empty* resp) override;
  grpc::Status ListUsers(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                         schema::UserList* resp) override;
  grpc::Status CreateUser(grpc::ServerContext* ctx, const schema::CreateUserRequest* req,
                          google::protobuf::Empty* resp) override;
  grpc::Status ChangePassword(grpc::ServerContext* ctx, const schema::ChangePasswordRequest* req,
                              google::protobuf::Empty* resp) override;
  grpc::Status ChangePermission(grpc::ServerContext* ctx,
                                const schema::ChangePermissionRequest* req,
                                google::protobuf::Empty* resp) override;
  grpc::Status SetActiveUser(grpc::ServerContext* ctx, const schema::SetActiveUserRequest* req,
                             google::protobuf::Empty* resp) override;
  grpc::Status UpdateAuthConfig(grpc::ServerContext* ctx, const schema::AuthConfig* req,
                                google::protobuf::Empty* resp) override;
  grpc::Status UpdateMTLSConfig(grpc::ServerContext* ctx, const schema::MTLSConfig* req,
                                google::protobuf::Empty* resp) override;

  // ---- sessions (session_service.cc) ----
  grpc::Status OpenSession(grpc::ServerContext* ctx, const schema::OpenSessionRequest* req,
                           schema::OpenSessionResponse* resp) override;
  grpc::Status KeepAlive(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                         google::protobuf::Empty* resp) override;
  grpc::Status CloseSession(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                            google::protobuf::Empty* resp) override;
  // Shared with AuthorizationServiceImpl: checks the credentials, the active
  // flag and the permission on `database` ("" = defaultdb), then opens a session.
  grpc::Status DoOpenSession(const std::string& username, const std::string& password,
                             const std::string& database, OpenedSession* out);
  // The `sessionid` of the call must name an open session.
  grpc::Status DoKeepAlive(grpc::ServerContext* ctx);
  grpc::Status DoCloseSession(grpc::ServerContext* ctx);
  const std::string& server_uuid() const { return s_->uuid; }

  // ---- databases, health, state (db_service.cc) ----
  grpc::Status CreateDatabase(grpc::ServerContext* ctx, const schema::Database* req,
                              google::protobuf::Empty* resp) override;
  grpc::Status CreateDatabaseV2(grpc::ServerContext* ctx, const schema::CreateDatabaseRequest* req,
                                schema::CreateDatabaseResponse* resp) override;
  grpc::Status DatabaseList(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                            schema::DatabaseListResponse* resp) override;
  grpc::Status DatabaseListV2(grpc::ServerContext* ctx, const schema::DatabaseListRequestV2* req,
                              schema::DatabaseListResponseV2* resp) override;
  grpc::Status UseDatabase(grpc::ServerContext* ctx, const schema::Database* req,
                           schema::UseDatabaseReply* resp) override;
  grpc::Status Health(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                      schema::HealthResponse* resp) override;
  grpc::Status ServerInfo(grpc::ServerContext* ctx, const schema::ServerInfoRequest* req,
                          schema::ServerInfoResponse* resp) override;
  grpc::Status CurrentState(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                            schema::ImmutableState* resp) override;
  grpc::Status FlushIndex(grpc::ServerContext* ctx, const schema::FlushIndexRequest* req,
                          schema::FlushIndexResponse* resp) override;
  grpc::Status CompactIndex(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                            google::protobuf::Empty* resp) override;
  grpc::Status LoadDatabase(grpc::ServerContext* ctx, const schema::LoadDatabaseRequest* req,
                            schema::LoadDatabaseResponse* resp) override;
  grpc::Status UnloadDatabase(grpc::ServerContext* ctx, const schema::UnloadDatabaseRequest* req,
                              schema::UnloadDatabaseResponse* resp) override;
  grpc::Status UpdateDatabaseV2(grpc::ServerContext* ctx, const schema::UpdateDatabaseRequest* req,
                                schema::UpdateDatabaseResponse* resp) override;
  grpc::Status GetDatabaseSettingsV2(grpc::ServerContext* ctx,
                                     const schema::DatabaseSettingsRequest* req,
                                     schema::DatabaseSettingsResponse* resp) override;

  // ---- key-value, sorted sets, transactions (kv_service.cc, tx_service.cc) ----
  grpc::Status Set(grpc::ServerContext* ctx, const schema::SetRequest* req,
                   schema::TxHeader* resp) override;
  grpc::Status VerifiableSet(grpc::ServerContext* ctx, const schema::VerifiableSetRequest* req,
                             schema::VerifiableTx* resp) override;
  grpc::Status Get(grpc::ServerContext* ctx, const schema::KeyRequest* req,
                   schema::Entry* resp) override;
  grpc::Status VerifiableGet(grpc::ServerContext* ctx, const schema::VerifiableGetRequest* req,
                             schema::VerifiableEntry* resp) override;
  grpc::Status GetAll(grpc::ServerContext* ctx, const schema::KeyListRequest* req,
                      schema::Entries* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const schema::DeleteKeysRequest* req,
                      schema::TxHeader* resp) override;
  grpc::Status ExecAll(grpc::ServerContext* ctx, const schema::ExecAllRequest* req,
                       schema::TxHeader* resp) override;
  grpc::Status Scan(grpc::ServerContext* ctx, const schema::ScanRequest* req,
                    schema::Entries* resp) override;
  grpc::Status Count(grpc::ServerContext* ctx, const schema::KeyPrefix* req,
                     schema::EntryCount* resp) override;
  grpc::Status CountAll(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                        schema::EntryCount* resp) override;
  grpc::Status History(grpc::ServerContext* ctx, const schema::HistoryRequest* req,
                       schema::Entries* resp) override;
  grpc::Status SetReference(grpc::ServerContext* ctx, const schema::ReferenceRequest* req,
                            schema::TxHeader* resp) override;
  grpc::Status VerifiableSetReference(grpc::ServerContext* ctx,
                                      const schema::VerifiableReferenceRequest* req,
                                      schema::VerifiableTx* resp) override;
  grpc::Status ZAdd(grpc::ServerContext* ctx, const schema::ZAddRequest* req,
                    schema::TxHeader* resp) override;
  grpc::Status VerifiableZAdd(grpc::ServerContext* ctx, const schema::VerifiableZAddRequest* req,
                              schema::VerifiableTx* resp) override;
  grpc::Status ZScan(grpc::ServerContext* ctx, const schema::ZScanRequest* req,
                     schema::ZEntries* resp) override;
  grpc::Status TxById(grpc::ServerContext* ctx, const schema::TxRequest* req,
                      schema::Tx* resp) override;
  grpc::Status VerifiableTxById(grpc::ServerContext* ctx, const schema::VerifiableTxRequest* req,
                                schema::VerifiableTx* resp) override;
  grpc::Status TxScan(grpc::ServerContext* ctx, const schema::TxScanRequest* req,
                      schema::TxList* resp) override;
  grpc::Status DatabaseHealth(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                              schema::DatabaseHealthResponse* resp) override;

  // ---- streams (stream_service.cc; framing in stream_framing.h) ----
  grpc::Status streamGet(grpc::ServerContext* ctx, const schema::KeyRequest* req,
                         grpc::ServerWriter<schema::Chunk>* writer) override;
  grpc::Status streamSet(grpc::ServerContext* ctx, grpc::ServerReader<schema::Chunk>* reader,
                         schema::TxHeader* resp) override;
  grpc::Status streamVerifiableGet(grpc::ServerContext* ctx,
                                   const schema::VerifiableGetRequest* req,
                                   grpc::ServerWriter<schema::Chunk>* writer) override;
  grpc::Status streamVerifiableSet(grpc::ServerContext* ctx,
                                   grpc::ServerReader<schema::Chunk>* reader,
                                   schema::VerifiableTx* resp) override;
  grpc::Status streamScan(grpc::ServerContext* ctx, const schema::ScanRequest* req,
                          grpc::ServerWriter<schema::Chunk>* writer) override;
  grpc::Status streamZScan(grpc::ServerContext* ctx, const schema::ZScanRequest* req,
                           grpc::ServerWriter<schema::Chunk>* writer) override;
  grpc::Status streamHistory(grpc::ServerContext* ctx, const schema::HistoryRequest* req,
                             grpc::ServerWriter<schema::Chunk>* writer) override;
  grpc::Status streamExecAll(grpc::ServerContext* ctx, grpc::ServerReader<schema::Chunk>* reader,
                             schema::TxHeader* resp) override;

  // ---- replication (replication_service.cc; docs/format/exported-tx.md) ----
  grpc::Status exportTx(grpc::ServerContext* ctx, const schema::ExportTxRequest* req,
                        grpc::ServerWriter<schema::Chunk>* writer) override;
  grpc::Status replicateTx(grpc::ServerContext* ctx, grpc::ServerReader<schema::Chunk>* reader,
                           schema::TxHeader* resp) override;
  grpc::Status streamExportTx(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<schema::Chunk, schema::ExportTxRequest>* stream) override;

  // ---- not implemented, with a clear message (unimplemented_service.cc) ----
  grpc::Status SQLExec(grpc::ServerContext* ctx, const schema::SQLExecRequest* req,
                       schema::SQLExecResult* resp) override;
  grpc::Status UnarySQLQuery(grpc::ServerContext* ctx, const schema::SQLQueryRequest* req,
                             schema::SQLQueryResult* resp) override;
  grpc::Status SQLQuery(grpc::ServerContext* ctx, const schema::SQLQueryRequest* req,
                        grpc::ServerWriter<schema::SQLQueryResult>* writer) override;
  grpc::Status ListTables(grpc::ServerContext* ctx, const google::protobuf::Empty* req,
                          schema::SQLQueryResult* resp) override;
  grpc::Status DescribeTable(grpc::ServerContext* ctx, const schema::Table* req,
                             schema::SQLQueryResult* resp) override;
  grpc::Status VerifiableSQLGet(grpc::ServerContext* ctx,
                                const schema::VerifiableSQLGetRequest* req,
                                schema::VerifiableSQLEntry* resp) override;

 private:
  // Login required (any user); resolves the token and the user's record.
  Result<Caller> Authenticate(grpc::ServerContext* ctx) const;
  // The selected database, checked for `access` (getDBFromCtx, §5.5).
  // `caller` (optional) receives the caller; empty user when auth is off.
  Result<DbHandle*> AuthorizeDb(grpc::ServerContext* ctx, Access access,
                                Caller* caller = nullptr) const;
  // Auth-off callers must be local unless --devmode.
  Status CheckLocalWhenAuthOff(grpc::ServerContext* ctx) const;
  // Fills `out` with the signature of (db, tx_id, alh) when a signing key is
  // configured; leaves it untouched otherwise (proofs.md §6.3).
  grpc::Status SignState(const std::string& db, uint64_t tx_id, const Hash& alh,
                         schema::Signature* out) const;
  // Signs the target state of a Verifiable* reply: (db, target id, target Alh).
  grpc::Status SignVerifiableTx(const std::string& db, const VerifiableTx& v,
                                schema::VerifiableTx* out) const;

  // Load/Unload/UpdateDatabaseV2: the caller must be sysadmin or admin of
  // `db`, which must be a user database (not reserved).
  grpc::Status AuthorizeDbAdmin(grpc::ServerContext* ctx, const std::string& db) const;

  // Drops the tokens and closes the sessions of `username` (password,
  // permission or active-flag change).
  void LogOutEverywhere(const std::string& username);

  ServerState* s_;
};

// immudb.model.AuthorizationService: the session calls, on the same port.
class AuthorizationServiceImpl final : public immudb::model::AuthorizationService::Service {
 public:
  explicit AuthorizationServiceImpl(ImmuServiceImpl* immu) : immu_(immu) {}
  grpc::Status OpenSession(grpc::ServerContext* ctx, const model::OpenSessionRequest* req,
                           model::OpenSessionResponse* resp) override;
  grpc::Status KeepAlive(grpc::ServerContext* ctx, const model::KeepAliveRequest* req,
                         model::KeepAliveResponse* resp) override;
  grpc::Status CloseSession(grpc::ServerContext* ctx, const model::CloseSessionRequest* req,
                            model::CloseSessionResponse* resp) override;

 private:
  ImmuServiceImpl* immu_;
};

}  // namespace immudb::server
