// The embedded DS's member-facing HTTP API under /ds/v1/ (JSON, byte
// strings as lowercase hex), documented in docs/ds-interface.md:
//
//   POST /ds/v1/groups                      {"group_info", "ratchet_tree"}
//   GET  /ds/v1/groups/{group_id}
//   POST /ds/v1/groups/{group_id}/commits   {"commit", "ratchet_tree", ["group_info"]}
//   POST /ds/v1/groups/{group_id}/messages  {"message"}
//   GET  /ds/v1/groups/{group_id}/messages?after=SEQ&limit=N
//   GET  /ds/v1/groups/{group_id}/ratchet_tree
//
// A group that left answers 410 {"error": "moved", "moved_to": DOMAIN}.
// Handlers run concurrently; EmbeddedDs is thread-safe.
#ifndef MIMI_DAEMON_DS_ROUTES_H_
#define MIMI_DAEMON_DS_ROUTES_H_

#include "daemon/http_server.h"
#include "embedded_ds/embedded_ds.h"

namespace mimi::daemon {

void RegisterDsRoutes(HttpServer& server, embedded_ds::EmbeddedDs& ds);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_DS_ROUTES_H_
