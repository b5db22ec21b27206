// JSON for immugw's REST routes, as immudb's grpc-gateway writes it
// (wire-api.md §8): proto field names, default values omitted, bytes as
// base64, 64-bit integers as strings; errors as
// {"error": <message>, "code": <gRPC code>, "message": <message>, "details": []}
// with the HTTP status grpc-gateway gives that code. Pure functions,
// thread-safe.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <string>
#include <utility>
#include <vector>

#include "immudb/result.h"

namespace immudb::gateway {

// Fills `msg` from a JSON object `body` ("" = no fields) and then from
// name=value pairs (path and query parameters, by proto or JSON field name;
// scalar fields only). InvalidArgument names what is wrong.
Status DecodeRequest(const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& params,
                     google::protobuf::Message* msg);

// The message as JSON; with `verified`, `"verified":true` is added.
std::string EncodeReply(const google::protobuf::Message& msg, bool verified = false);

// HTTP status for a gRPC code (grpc-gateway's mapping).
int HttpStatus(grpc::StatusCode code);

// The error body for `code` and `message`.
std::string ErrorBody(grpc::StatusCode code, const std::string& message);

}  // namespace immudb::gateway
