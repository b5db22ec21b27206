// The methods served by --grpc-dispatch=queues (server/queued_dispatch.h).
#pragma once

#include <vector>

#include "server/queued_dispatch.h"
#include "server/reflection_service.h"
#include "server/service.h"

namespace immudb::server {

// Every method of `immu`'s ImmuService and `auth`'s AuthorizationService,
// and `reflection`'s when not null, with the adapters that run their
// handlers from our queues.
std::vector<QueuedMethod> QueuedMethods(ImmuServiceImpl* immu, AuthorizationServiceImpl* auth,
                                        ReflectionServiceImpl* reflection = nullptr);

// Whether a queue thread commits the Sets it queued itself, at the end of its
// group of ready calls (store::CommitHere; the default), or leaves them to
// the store's commit thread. Process-wide; set before the server starts. A
// synced server leaves them: a queue thread in an fsync reads no request, so
// the next group would only gather the calls that came in before it.
void SetQueuedCommitHere(bool on);

}  // namespace immudb::server
