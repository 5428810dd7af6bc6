// The operator's admin API, served on mimi-portd's loopback admin listener
// (config admin_listen; plain HTTP is acceptable there because every
// request must carry the bearer token of admin_api/admin_token.h):
//
//   GET  /admin/v1/migrations?state=S&role=R&group=HEX&limit=N
//   GET  /admin/v1/migrations/{id}          both roles' rows, all fields, events,
//                                           content upload progress
//   GET  /admin/v1/stats                    counts per role/state, stalled, age
//   POST /admin/v1/migrations/{id}/retry    -> AdminActions::Retry
//   POST /admin/v1/migrations/{id}/abort    -> AdminActions::Abort
//
// Reads come straight from the Store (documents of admin_api/admin_views.h); the two
// actions go through AdminActions, which the protocol engine implements, so
// that an abort follows the same protocol path as an automatic one. A
// request without "Authorization: Bearer <token>" is answered 401
// {"error": "unauthorized"} before anything else is looked at. Handlers run
// concurrently on the server's pool; Store and AdminActions must be
// thread-safe and outlive the server.
#ifndef MIMI_DAEMON_ADMIN_ROUTES_H_
#define MIMI_DAEMON_ADMIN_ROUTES_H_

#include <string>
#include <string_view>

#include "daemon/http_server.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "protocol/transfer_progress.h"
#include "store/store.h"

namespace mimi::daemon {

// What an operator may make the protocol engine do. Both get a validated,
// lowercase id that has at least one row; their Status is the answer
// (kFailedPrecondition -> 409 for "not in a state where this applies").
class AdminActions {
 public:
  virtual ~AdminActions() = default;
  // Make the id's unfinished rows due now and clear their stall
  // (store::Store::ScheduleNow), so recovery tries the next step at once.
  virtual Status Retry(std::string_view id) = 0;
  // Start the abort flow for the id's source row (MigrationAbort to the
  // target); only legal while the target cannot have imported for sure.
  virtual Status Abort(std::string_view id) = 0;
};

// Registers the routes above on `server` (before its Start()). `actions`
// may be null while the daemon has no engine: retry and abort then answer
// 503. `clock` stamps the documents' "now". `transfers` (may be null) adds
// the progress of content uploads in flight to the per-id document.
void RegisterAdminRoutes(HttpServer& server, store::Store& store,
                         const std::string& token, AdminActions* actions,
                         const Clock& clock = SystemClock::Get(),
                         const protocol::TransferProgress* transfers = nullptr);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_ADMIN_ROUTES_H_
