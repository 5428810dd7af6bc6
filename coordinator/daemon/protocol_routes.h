// The protocol's HTTP endpoints (docs/protocol.md §3 "Endpoints"; the paths
// and the media type are spelled in mimi_portability/endpoints.h):
//
//   POST kRequestPath   client -> target
//   POST kInitPath      client -> source
//   POST kContentPath   source -> target
//   POST kAbortPath     source -> target
//   GET  kStatusPathPrefix + {hex nonce}
//   GET  /.well-known/mimi-portability  (the key document)
//
// Bodies are the messages' own serialization with Content-Type kMediaType;
// anything else is refused (415) before it is parsed. The handlers only
// translate between HTTP and the services.
#ifndef MIMI_DAEMON_PROTOCOL_ROUTES_H_
#define MIMI_DAEMON_PROTOCOL_ROUTES_H_

#include <chrono>

#include "daemon/http_server.h"
#include "protocol/source_service.h"
#include "protocol/target_service.h"

namespace mimi::daemon {

struct ProtocolRoutesOptions {
  // How long POST /init waits for the migration to finish before answering
  // 202 with the status URL.
  std::chrono::milliseconds init_wait{5000};
  int64_t key_document_validity_ms = 60 * 60 * 1000;
};

void RegisterProtocolRoutes(HttpServer& server, const protocol::ProtocolContext& ctx,
                            protocol::SourceService& source,
                            protocol::TargetService& target,
                            const ProtocolRoutesOptions& options);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_PROTOCOL_ROUTES_H_
