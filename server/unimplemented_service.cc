// RPCs this server does not offer yet: SQL. They answer UNIMPLEMENTED with a
// message that says so (the generated defaults would send an empty message).
#include "server/errors.h"
#include "server/service.h"

namespace immudb::server {
namespace {
grpc::Status NoSql() { return Unimplemented("SQL is not supported by this server"); }
}  // namespace

grpc::Status ImmuServiceImpl::SQLExec(grpc::ServerContext*, const schema::SQLExecRequest*,
                                      schema::SQLExecResult*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::UnarySQLQuery(grpc::ServerContext*, const schema::SQLQueryRequest*,
                                            schema::SQLQueryResult*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::SQLQuery(grpc::ServerContext*, const schema::SQLQueryRequest*,
                                       grpc::ServerWriter<schema::SQLQueryResult>*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::ListTables(grpc::ServerContext*, const google::protobuf::Empty*,
                                         schema::SQLQueryResult*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::DescribeTable(grpc::ServerContext*, const schema::Table*,
                                            schema::SQLQueryResult*) {
  return NoSql();
}
grpc::Status ImmuServiceImpl::VerifiableSQLGet(grpc::ServerContext*,
                                               const schema::VerifiableSQLGetRequest*,
                                               schema::VerifiableSQLEntry*) {
  return NoSql();
}

}  // namespace immudb::server
