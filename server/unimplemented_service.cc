// RPCs this server does not offer: SQL, interactive (SQL) transactions and
// SQL privileges. They answer UNIMPLEMENTED with a message that says so (the
// generated defaults would send an empty message).
#include "server/errors.h"
#include "server/service.h"

namespace immudb::server {
namespace {
grpc::Status NoSql() { return Unimplemented("SQL is not supported by this server"); }
grpc::Status NoTx() {
  return Unimplemented("interactive transactions are not supported by this server");
}
}  // namespace

grpc::Status ImmuServiceImpl::DoChangeSQLPrivileges(grpc::ServerContextBase*,
                                                    const schema::ChangeSQLPrivilegesRequest*,
                                                    schema::ChangeSQLPrivilegesResponse*) {
  return Unimplemented("SQL privileges are not supported by this server");
}
grpc::Status ImmuServiceImpl::DoNewTx(grpc::ServerContextBase*, const schema::NewTxRequest*,
                                      schema::NewTxResponse*) {
  return NoTx();
}
grpc::Status ImmuServiceImpl::DoCommit(grpc::ServerContextBase*, const google::protobuf::Empty*,
                                       schema::CommittedSQLTx*) {
  return NoTx();
}
grpc::Status ImmuServiceImpl::DoRollback(grpc::ServerContextBase*, const google::protobuf::Empty*,
                                         google::protobuf::Empty*) {
  return NoTx();
}
grpc::Status ImmuServiceImpl::DoTxSQLExec(grpc::ServerContextBase*, const schema::SQLExecRequest*,
                                          google::protobuf::Empty*) {
  return NoTx();
}
grpc::Status ImmuServiceImpl::DoTxSQLQuery(grpc::ServerContextBase*, const schema::SQLQueryRequest*,
                                           grpc::ServerWriterInterface<schema::SQLQueryResult>*) {
  return NoTx();
}

grpc::Status ImmuServiceImpl::DoSQLExec(grpc::ServerContextBase*, const schema::SQLExecRequest*,
                                        schema::SQLExecResult*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::DoUnarySQLQuery(grpc::ServerContextBase*,
                                              const schema::SQLQueryRequest*,
                                              schema::SQLQueryResult*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::DoSQLQuery(grpc::ServerContextBase*, const schema::SQLQueryRequest*,
                                         grpc::ServerWriterInterface<schema::SQLQueryResult>*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::DoListTables(grpc::ServerContextBase*, const google::protobuf::Empty*,
                                           schema::SQLQueryResult*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::DoDescribeTable(grpc::ServerContextBase*, const schema::Table*,
                                              schema::SQLQueryResult*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::DoVerifiableSQLGet(grpc::ServerContextBase*,
                                                 const schema::VerifiableSQLGetRequest*,
                                                 schema::VerifiableSQLEntry*) {
  return NoSql();
}

}  // namespace immudb::server
