// Test helper shared by the immugw tests: a gateway started on a free
// loopback port, an HTTP client to it, and the token of a login as the
// default sysadmin (immudb/immudb).
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "cmd/immugw/gateway.h"
#include "immudb/result.h"

namespace immudb::gateway::testing {

// Creates and starts a gateway with `o` (its address and port are set to a
// free loopback port), points `*http` at it and posts /api/login. Returns
// the login's HTTP status (-1 when there was no reply), with `*token` set
// from a reply that carries one and `*body` (if given) the reply body; an
// error when the gateway cannot be created or started.
inline Result<int> StartGatewayAndLogin(GatewayOptions o, std::unique_ptr<Gateway>* gw,
                                        std::unique_ptr<httplib::Client>* http, std::string* token,
                                        std::string* body = nullptr) {
  o.address = "127.0.0.1";
  o.port = 0;
  IMMUDB_ASSIGN_OR_RETURN(*gw, Gateway::Create(std::move(o)));
  IMMUDB_RETURN_IF_ERROR((*gw)->Start());
  *http = std::make_unique<httplib::Client>("127.0.0.1", (*gw)->port());
  (*http)->set_read_timeout(20, 0);
  auto res = (*http)->Post("/api/login", R"({"user":"aW1tdWRi","password":"aW1tdWRi"})",
                           "application/json");
  if (!res) return -1;
  if (body != nullptr) *body = res->body;
  const std::string marker = "\"token\":\"";
  const size_t at = res->body.find(marker);
  if (at != std::string::npos) {
    const size_t from = at + marker.size();
    *token = res->body.substr(from, res->body.find('"', from) - from);
  }
  return res->status;
}

}  // namespace immudb::gateway::testing
