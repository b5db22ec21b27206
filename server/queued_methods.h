// The methods served by --grpc-dispatch=queues (server/queued_dispatch.h).
#pragma once

#include <vector>

#include "server/queued_dispatch.h"
#include "server/service.h"

namespace immudb::server {

// Every method of `immu`'s ImmuService and `auth`'s AuthorizationService,
// with the adapters that run their handlers from our queues.
std::vector<QueuedMethod> QueuedMethods(ImmuServiceImpl* immu, AuthorizationServiceImpl* auth);

}  // namespace immudb::server
