// The server's error edge: engine Status values and the server's own failures
// become grpc::Status here, with immudb's codes and message texts
// (wire-api.md §6). Handlers never build grpc::Status by hand.
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

#include "immudb/status.h"

namespace immudb::server {

// immudb's message texts, matched by clients (immuclient, immudb-node).
inline constexpr char kErrNotLoggedIn[] = "not logged in";
inline constexpr char kErrInvalidToken[] = "invalid token";
inline constexpr char kErrTokenExpired[] = "token has expired";
inline constexpr char kErrSelectDb[] = "please select a database first";
// Maintenance mode, no database chosen with UseDatabase (immudb's text).
inline constexpr char kErrMaintenanceSelectDb[] = "please select database first";
inline constexpr char kErrPermissionDenied[] = "permission denied";
inline constexpr char kErrIllegalArguments[] = "illegal arguments";
inline constexpr char kErrIllegalState[] = "illegal state";
inline constexpr char kErrInvalidLogin[] = "invalid user name or password";
inline constexpr char kErrUserNotActive[] = "user is not active";
inline constexpr char kErrNotSupported[] = "operation not supported";
inline constexpr char kErrMaintenance[] = "operation not allowed in maintenance mode";
inline constexpr char kErrAuthDisabledLogin[] =
    "server is running with authentication disabled, please enable authentication to login";
inline constexpr char kErrAuthDisabledRemote[] =
    "server has authentication disabled: only local connections are accepted";
inline constexpr char kErrDbExists[] = "database already exists";
inline constexpr char kErrDbReserved[] = "database is reserved";
inline constexpr char kErrNoDbPermission[] =
    "loggedin user does not have permissions for this operation";
inline constexpr char kErrSessionNotFound[] = "session not found";
inline constexpr char kErrStreamSessionNotFound[] = "no session found";
inline constexpr char kErrMaxSessions[] = "can not create new session: max sessions number reached";

// Maps an engine or server Status to the gRPC status immudb sends:
//   kInvalidArgument "illegal arguments"/"illegal state" (exact) -> INVALID_ARGUMENT,
//   any other kInvalidArgument / kNotFound / kUnknown / kAlreadyExists -> UNKNOWN,
//   kFailedPrecondition -> FAILED_PRECONDITION, kPermissionDenied -> PERMISSION_DENIED,
//   kUnauthenticated -> UNAUTHENTICATED, kUnimplemented -> UNIMPLEMENTED,
//   kDataLoss -> DATA_LOSS, kInternal / kIOError -> INTERNAL, others -> same number.
// The message is the Status message, unchanged.
grpc::Status ToGrpcStatus(const Status& s);

// A unary-call status as immudb reports it on a stream: an unknown session
// is INVALID_ARGUMENT "no session found" there; everything else unchanged.
grpc::Status ForStream(grpc::Status st);

// Shorthands for the server's own failures (already in gRPC terms).
grpc::Status GrpcError(grpc::StatusCode code, std::string_view msg);
inline grpc::Status Unknown(std::string_view msg) {
  return GrpcError(grpc::StatusCode::UNKNOWN, msg);
}
inline grpc::Status InvalidArgument(std::string_view msg) {
  return GrpcError(grpc::StatusCode::INVALID_ARGUMENT, msg);
}
inline grpc::Status Internal(std::string_view msg) {
  return GrpcError(grpc::StatusCode::INTERNAL, msg);
}
inline grpc::Status PermissionDenied(std::string_view msg) {
  return GrpcError(grpc::StatusCode::PERMISSION_DENIED, msg);
}
inline grpc::Status NotFound(std::string_view msg) {
  return GrpcError(grpc::StatusCode::NOT_FOUND, msg);
}
inline grpc::Status Unimplemented(std::string_view msg) {
  return GrpcError(grpc::StatusCode::UNIMPLEMENTED, msg);
}

}  // namespace immudb::server
