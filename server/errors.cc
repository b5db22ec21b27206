#include "server/errors.h"

namespace immudb::server {

grpc::Status GrpcError(grpc::StatusCode code, std::string_view msg) {
  return grpc::Status(code, std::string(msg));
}

grpc::Status ForStream(grpc::Status st) {
  if (st.error_message() == kErrSessionNotFound) {
    return GrpcError(grpc::StatusCode::INVALID_ARGUMENT, kErrStreamSessionNotFound);
  }
  return st;
}

grpc::Status ToGrpcStatus(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  const std::string& msg = s.message();
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      // immudb's error mapper only rewrites the bare store errors; wrapped
      // texts such as "illegal arguments: empty key" stay UNKNOWN.
      if (msg == kErrIllegalArguments || msg == kErrIllegalState || msg == kErrMaintenance) {
        return GrpcError(grpc::StatusCode::INVALID_ARGUMENT, msg);
      }
      return GrpcError(grpc::StatusCode::UNKNOWN, msg);
    case StatusCode::kNotFound:
    case StatusCode::kUnknown:
    case StatusCode::kAlreadyExists:
      return GrpcError(grpc::StatusCode::UNKNOWN, msg);
    case StatusCode::kIOError:
    case StatusCode::kInternal:
      return GrpcError(grpc::StatusCode::INTERNAL, msg);
    default:
      return GrpcError(static_cast<grpc::StatusCode>(static_cast<int>(s.code())), msg);
  }
}

}  // namespace immudb::server
