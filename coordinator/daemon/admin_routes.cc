#include "daemon/admin_routes.h"

#include <optional>
#include <utility>

#include "admin_api/admin_paths.h"
#include "admin_api/admin_token.h"
#include "admin_api/admin_views.h"

namespace mimi::daemon {
namespace {

using nlohmann::json;

constexpr std::string_view kBearer = "bearer ";

bool Authorized(const httplib::Request& req, const std::string& token) {
  const std::string header = req.get_header_value("Authorization");
  if (header.size() <= kBearer.size()) return false;
  // The scheme name is case-insensitive (RFC 9110 §11.1); the token is not.
  for (size_t i = 0; i < kBearer.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kBearer[i]) return false;
  }
  return admin_api::AdminTokenMatches(token, std::string_view(header).substr(kBearer.size()));
}

std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

// Every admin handler: token first, nothing cached by intermediaries.
HttpServer::Handler Guarded(const std::string& token, HttpServer::Handler inner) {
  return [token, inner = std::move(inner)](const httplib::Request& req,
                                           httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    if (!Authorized(req, token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      ReplyJson(res, 401,
                {{"error", "unauthorized"},
                 {"detail", "missing or wrong bearer token (see admin.token "
                            "in the data directory)"}});
      return;
    }
    inner(req, res);
  };
}

void ReplyResult(httplib::Response& res, const Result<json>& body) {
  if (body.ok()) {
    ReplyJson(res, 200, *body);
  } else {
    ReplyError(res, body.status());
  }
}

enum class Action { kRetry, kAbort };

void RegisterAction(HttpServer& server, store::Store& store,
                    const std::string& token, AdminActions* actions,
                    Action action) {
  const char* name = action == Action::kRetry ? admin_api::kRetryAction
                                              : admin_api::kAbortAction;
  server.Post(
      std::string(admin_api::kMigrationsPath) + "/([^/]+)/" + name,
      Guarded(token, [&store, actions, action, name](const httplib::Request& req,
                                                     httplib::Response& res) {
        Result<std::string> id = store::ParseMigrationId(req.matches[1].str());
        if (!id.ok()) return ReplyError(res, id.status());
        Result<std::vector<store::MigrationRecord>> rows = store.GetById(*id);
        if (!rows.ok()) return ReplyError(res, rows.status());
        if (rows->empty()) {
          return ReplyError(res, NotFoundError("no migration " + *id));
        }
        if (actions == nullptr) {
          return ReplyError(res, UnavailableError(
                                     "the protocol engine is not running"));
        }
        Status s = action == Action::kRetry ? actions->Retry(*id)
                                            : actions->Abort(*id);
        if (!s.ok()) return ReplyError(res, s);
        // 202: the engine has taken the request; the outcome shows in the
        // migration's state (GET .../{id}, or mimi-portctl watch).
        ReplyJson(res, 202, {{"id", *id}, {"action", name}, {"accepted", true}});
      }));
}

}  // namespace

void RegisterAdminRoutes(HttpServer& server, store::Store& store,
                         const std::string& token, AdminActions* actions,
                         const Clock& clock,
                         const protocol::TransferProgress* transfers) {
  server.Get(admin_api::kMigrationsPath,
             Guarded(token, [&store, &clock](const httplib::Request& req,
                                             httplib::Response& res) {
               Result<store::ListFilter> filter =
                   admin_api::ParseListFilter(Param(req, "state"), Param(req, "role"),
                                   Param(req, "group"), Param(req, "limit"));
               if (!filter.ok()) return ReplyError(res, filter.status());
               ReplyResult(res, admin_api::ListView(store, *filter, clock.NowMillis()));
             }));
  admin_api::TransferLookup lookup;
  if (transfers != nullptr) {
    lookup = [transfers](std::string_view id)
        -> std::optional<admin_api::TransferView> {
      std::optional<protocol::TransferSnapshot> t = transfers->Get(id);
      if (!t) return std::nullopt;
      return admin_api::TransferView{t->sent_bytes, t->total_bytes,
                                     t->started_at, t->updated_at};
    };
  }
  server.Get(std::string(admin_api::kMigrationsPath) + "/([^/]+)",
             Guarded(token, [&store, &clock, lookup](const httplib::Request& req,
                                                        httplib::Response& res) {
               Result<std::string> id = store::ParseMigrationId(req.matches[1].str());
               if (!id.ok()) return ReplyError(res, id.status());
               ReplyResult(res, admin_api::ShowView(store, *id, clock.NowMillis(),
                                                    lookup));
             }));
  server.Get(admin_api::kStatsPath,
             Guarded(token, [&store, &clock](const httplib::Request&,
                                             httplib::Response& res) {
               ReplyResult(res, admin_api::StatsView(store, clock.NowMillis()));
             }));
  RegisterAction(server, store, token, actions, Action::kRetry);
  RegisterAction(server, store, token, actions, Action::kAbort);
}

}  // namespace mimi::daemon
