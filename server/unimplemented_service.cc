// RPCs this server does not offer yet: SQL. They answer UNIMPLEMENTED with a
// message that says so (the generated defaults would send an empty message).
#include "server/errors.h"
#include "server/service.h"

namespace immudb::server {
namespace {
grpc::Status NoSql() { return Unimplemented("SQL is not supported by this server"); }
}  // namespace

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
