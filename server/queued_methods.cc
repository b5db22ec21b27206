// The table of --grpc-dispatch=queues: every method of ImmuService and
// AuthorizationService, with the adapter that runs its handler body from a
// QueuedCall (server/queued_dispatch.h). Unary methods run their Queued<name>
// (service.h: the same Do<name> and run mode as the callback override);
// streaming methods run their Do<name> on the stream pool over the stream
// adapters. queued_dispatch_test checks the table against the services'
// descriptors.
#include "server/queued_methods.h"

namespace immudb::server {
namespace {

template <class C, class Req, class Resp>
QueuedMethod Unary(C* svc, const char* name, void (C::*m)(QueuedCall*, const Req*, Resp*)) {
  QueuedMethod e;
  e.path = std::string(C::kServicePath) + name;
  e.kind = QueuedMethod::kUnary;
  e.request = &Req::default_instance();
  e.response = &Resp::default_instance();
  e.serve = [svc, m](QueuedCall* c) {
    (svc->*m)(c, static_cast<const Req*>(c->request()), static_cast<Resp*>(c->response()));
  };
  return e;
}

// Begins the call's CallRecord on the queue thread (before anything is sent)
// and runs `body(ctx)` on the stream pool, then finishes the call with its
// status.
template <class C, class Body>
void RunStream(C* svc, QueuedCall* c, Body body) {
  grpc::ServerContextBase* ctx = c->ctx();
  const CallRecord call(svc->state(), ctx, &c->method()->path);
  svc->stream_pool()->Submit(
      [c, ctx, call, body = std::move(body)] { c->Finish(call.End(body(ctx))); });
}

template <class C, class Req, class W>
QueuedMethod ServerStream(C* svc, const char* name,
                          grpc::Status (C::*m)(grpc::ServerContextBase*, const Req*,
                                               grpc::ServerWriterInterface<W>*)) {
  QueuedMethod e;
  e.path = std::string(C::kServicePath) + name;
  e.kind = QueuedMethod::kServerStream;
  e.request = &Req::default_instance();
  e.serve = [svc, m](QueuedCall* c) {
    RunStream(svc, c, [svc, m, c](grpc::ServerContextBase* ctx) {
      QueuedWriter<W> writer(c);
      return (svc->*m)(ctx, static_cast<const Req*>(c->request()), &writer);
    });
  };
  return e;
}

template <class C, class R, class Resp>
QueuedMethod ClientStream(C* svc, const char* name,
                          grpc::Status (C::*m)(grpc::ServerContextBase*,
                                               grpc::ServerReaderInterface<R>*, Resp*)) {
  QueuedMethod e;
  e.path = std::string(C::kServicePath) + name;
  e.kind = QueuedMethod::kClientStream;
  e.response = &Resp::default_instance();
  e.serve = [svc, m](QueuedCall* c) {
    RunStream(svc, c, [svc, m, c](grpc::ServerContextBase* ctx) {
      QueuedReader<R> reader(c);
      return (svc->*m)(ctx, &reader, static_cast<Resp*>(c->response()));
    });
  };
  return e;
}

template <class C, class W, class R>
QueuedMethod Bidi(C* svc, const char* name,
                  grpc::Status (C::*m)(grpc::ServerContextBase*,
                                       grpc::ServerReaderWriterInterface<W, R>*)) {
  QueuedMethod e;
  e.path = std::string(C::kServicePath) + name;
  e.kind = QueuedMethod::kBidi;
  e.serve = [svc, m](QueuedCall* c) {
    RunStream(svc, c, [svc, m, c](grpc::ServerContextBase* ctx) {
      QueuedReaderWriter<W, R> stream(c);
      return (svc->*m)(ctx, &stream);
    });
  };
  return e;
}

}  // namespace

std::vector<QueuedMethod> QueuedMethods(ImmuServiceImpl* immu, AuthorizationServiceImpl* auth,
                                        ReflectionServiceImpl* reflection) {
  std::vector<QueuedMethod> methods = {
      Unary(immu, "Login", &ImmuServiceImpl::QueuedLogin),
      Unary(immu, "Logout", &ImmuServiceImpl::QueuedLogout),
      Unary(immu, "ListUsers", &ImmuServiceImpl::QueuedListUsers),
      Unary(immu, "CreateUser", &ImmuServiceImpl::QueuedCreateUser),
      Unary(immu, "ChangePassword", &ImmuServiceImpl::QueuedChangePassword),
      Unary(immu, "ChangePermission", &ImmuServiceImpl::QueuedChangePermission),
      Unary(immu, "SetActiveUser", &ImmuServiceImpl::QueuedSetActiveUser),
      Unary(immu, "UpdateAuthConfig", &ImmuServiceImpl::QueuedUpdateAuthConfig),
      Unary(immu, "UpdateMTLSConfig", &ImmuServiceImpl::QueuedUpdateMTLSConfig),
      Unary(immu, "OpenSession", &ImmuServiceImpl::QueuedOpenSession),
      Unary(immu, "KeepAlive", &ImmuServiceImpl::QueuedKeepAlive),
      Unary(immu, "CloseSession", &ImmuServiceImpl::QueuedCloseSession),
      Unary(immu, "CreateDatabase", &ImmuServiceImpl::QueuedCreateDatabase),
      Unary(immu, "CreateDatabaseV2", &ImmuServiceImpl::QueuedCreateDatabaseV2),
      Unary(immu, "DatabaseList", &ImmuServiceImpl::QueuedDatabaseList),
      Unary(immu, "DatabaseListV2", &ImmuServiceImpl::QueuedDatabaseListV2),
      Unary(immu, "UseDatabase", &ImmuServiceImpl::QueuedUseDatabase),
      Unary(immu, "Health", &ImmuServiceImpl::QueuedHealth),
      Unary(immu, "ServerInfo", &ImmuServiceImpl::QueuedServerInfo),
      Unary(immu, "CurrentState", &ImmuServiceImpl::QueuedCurrentState),
      Unary(immu, "FlushIndex", &ImmuServiceImpl::QueuedFlushIndex),
      Unary(immu, "CompactIndex", &ImmuServiceImpl::QueuedCompactIndex),
      Unary(immu, "LoadDatabase", &ImmuServiceImpl::QueuedLoadDatabase),
      Unary(immu, "UnloadDatabase", &ImmuServiceImpl::QueuedUnloadDatabase),
      Unary(immu, "DeleteDatabase", &ImmuServiceImpl::QueuedDeleteDatabase),
      Unary(immu, "UpdateDatabaseV2", &ImmuServiceImpl::QueuedUpdateDatabaseV2),
      Unary(immu, "GetDatabaseSettingsV2", &ImmuServiceImpl::QueuedGetDatabaseSettingsV2),
      Unary(immu, "CreateDatabaseWith", &ImmuServiceImpl::QueuedCreateDatabaseWith),
      Unary(immu, "UpdateDatabase", &ImmuServiceImpl::QueuedUpdateDatabase),
      Unary(immu, "GetDatabaseSettings", &ImmuServiceImpl::QueuedGetDatabaseSettings),
      Unary(immu, "TruncateDatabase", &ImmuServiceImpl::QueuedTruncateDatabase),
      Unary(immu, "VerifiableSet", &ImmuServiceImpl::QueuedVerifiableSet),
      Unary(immu, "GetAll", &ImmuServiceImpl::QueuedGetAll),
      Unary(immu, "Delete", &ImmuServiceImpl::QueuedDelete),
      Unary(immu, "ExecAll", &ImmuServiceImpl::QueuedExecAll),
      Unary(immu, "Scan", &ImmuServiceImpl::QueuedScan),
      Unary(immu, "Count", &ImmuServiceImpl::QueuedCount),
      Unary(immu, "CountAll", &ImmuServiceImpl::QueuedCountAll),
      Unary(immu, "History", &ImmuServiceImpl::QueuedHistory),
      Unary(immu, "SetReference", &ImmuServiceImpl::QueuedSetReference),
      Unary(immu, "VerifiableSetReference", &ImmuServiceImpl::QueuedVerifiableSetReference),
      Unary(immu, "ZAdd", &ImmuServiceImpl::QueuedZAdd),
      Unary(immu, "VerifiableZAdd", &ImmuServiceImpl::QueuedVerifiableZAdd),
      Unary(immu, "ZScan", &ImmuServiceImpl::QueuedZScan),
      Unary(immu, "TxById", &ImmuServiceImpl::QueuedTxById),
      Unary(immu, "VerifiableTxById", &ImmuServiceImpl::QueuedVerifiableTxById),
      Unary(immu, "TxScan", &ImmuServiceImpl::QueuedTxScan),
      Unary(immu, "DatabaseHealth", &ImmuServiceImpl::QueuedDatabaseHealth),
      ServerStream(immu, "streamGet", &ImmuServiceImpl::DostreamGet),
      ClientStream(immu, "streamSet", &ImmuServiceImpl::DostreamSet),
      ServerStream(immu, "streamVerifiableGet", &ImmuServiceImpl::DostreamVerifiableGet),
      ClientStream(immu, "streamVerifiableSet", &ImmuServiceImpl::DostreamVerifiableSet),
      ServerStream(immu, "streamScan", &ImmuServiceImpl::DostreamScan),
      ServerStream(immu, "streamZScan", &ImmuServiceImpl::DostreamZScan),
      ServerStream(immu, "streamHistory", &ImmuServiceImpl::DostreamHistory),
      ClientStream(immu, "streamExecAll", &ImmuServiceImpl::DostreamExecAll),
      ServerStream(immu, "exportTx", &ImmuServiceImpl::DoexportTx),
      ClientStream(immu, "replicateTx", &ImmuServiceImpl::DoreplicateTx),
      Unary(immu, "ChangeSQLPrivileges", &ImmuServiceImpl::QueuedChangeSQLPrivileges),
      Unary(immu, "NewTx", &ImmuServiceImpl::QueuedNewTx),
      Unary(immu, "Commit", &ImmuServiceImpl::QueuedCommit),
      Unary(immu, "Rollback", &ImmuServiceImpl::QueuedRollback),
      Unary(immu, "TxSQLExec", &ImmuServiceImpl::QueuedTxSQLExec),
      ServerStream(immu, "TxSQLQuery", &ImmuServiceImpl::DoTxSQLQuery),
      Unary(immu, "SQLExec", &ImmuServiceImpl::QueuedSQLExec),
      Unary(immu, "UnarySQLQuery", &ImmuServiceImpl::QueuedUnarySQLQuery),
      ServerStream(immu, "SQLQuery", &ImmuServiceImpl::DoSQLQuery),
      Unary(immu, "ListTables", &ImmuServiceImpl::QueuedListTables),
      Unary(immu, "DescribeTable", &ImmuServiceImpl::QueuedDescribeTable),
      Unary(immu, "VerifiableSQLGet", &ImmuServiceImpl::QueuedVerifiableSQLGet),
      Unary(immu, "Set", &ImmuServiceImpl::QueuedSet),
      Unary(immu, "Get", &ImmuServiceImpl::QueuedGet),
      Unary(immu, "VerifiableGet", &ImmuServiceImpl::QueuedVerifiableGet),
      Bidi(immu, "streamExportTx", &ImmuServiceImpl::DostreamExportTx),
      Unary(auth, "OpenSession", &AuthorizationServiceImpl::QueuedOpenSession),
      Unary(auth, "KeepAlive", &AuthorizationServiceImpl::QueuedKeepAlive),
      Unary(auth, "CloseSession", &AuthorizationServiceImpl::QueuedCloseSession),
  };
  if (reflection != nullptr) {
    methods.push_back(
        Bidi(reflection, "ServerReflectionInfo", &ReflectionServiceImpl::DoServerReflectionInfo));
  }
  return methods;
}

}  // namespace immudb::server
