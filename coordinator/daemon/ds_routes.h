// The embedded DS's member-facing HTTP API under /ds/v1/ (JSON, byte
// strings as lowercase hex), documented in docs/ds-api.md:
//
//   POST /ds/v1/groups                      {"group_info", "ratchet_tree"}   [token]
//   GET  /ds/v1/groups/{group_id}                                            [member]
//   POST /ds/v1/groups/{group_id}/commits   {"commit", "ratchet_tree", "group_info"}
//                                                                            [member]
//   POST /ds/v1/groups/{group_id}/messages  {"message"}                      [member]
//   GET  /ds/v1/groups/{group_id}/messages?after=SEQ&limit=N
//
// [token]: Authorization: Bearer <client token> (the target's client
// tokens). [member]: MIMI-Sender / MIMI-Epoch / MIMI-Signature, see
// docs/protocol.md "Member API authentication" (optional on GET group:
// without them the answer leaves out migration_id).
//
// A group that left answers 410 {"error": "moved", "moved_to": DOMAIN}.
// Reference: docs/ds-api.md and docs/ds-api.openapi.yaml; kDsRoutes below is
// the one list of routes, which the registration uses and a test compares
// with the OpenAPI file. Handlers run concurrently; EmbeddedDs is
// thread-safe.
#ifndef MIMI_DAEMON_DS_ROUTES_H_
#define MIMI_DAEMON_DS_ROUTES_H_

#include <cstddef>
#include <string_view>

#include "daemon/http_server.h"
#include "embedded_ds/embedded_ds.h"
#include "protocol/client_tokens.h"

namespace mimi::daemon {

// One route of the member API, its path as OpenAPI writes it ("{group_id}"
// where the registration puts the group id's pattern).
struct DsRoute {
  std::string_view method;  // "GET" or "POST"
  std::string_view path;
};

enum DsRouteIndex : size_t {
  kDsCreateGroup,
  kDsGetGroup,
  kDsPostCommit,
  kDsPostMessage,
  kDsFetchMessages,
};

inline constexpr DsRoute kDsRoutes[] = {
    {"POST", "/ds/v1/groups"},
    {"GET", "/ds/v1/groups/{group_id}"},
    {"POST", "/ds/v1/groups/{group_id}/commits"},
    {"POST", "/ds/v1/groups/{group_id}/messages"},
    {"GET", "/ds/v1/groups/{group_id}/messages"},
};

// `client_tokens` decides who may create groups; null refuses everyone.
void RegisterDsRoutes(HttpServer& server, embedded_ds::EmbeddedDs& ds,
                      protocol::ClientTokens* client_tokens);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_DS_ROUTES_H_
