#include "cli/admin_client.h"

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <utility>

#include "admin_api/admin_paths.h"
#include "admin_api/admin_token.h"
#include "admin_api/admin_views.h"
#include "codec/json_text.h"

namespace mimi::cli {
namespace {

using nlohmann::json;

constexpr char kDaemonUnreachable[] = "daemon-unreachable";

// The Status the daemon meant by an HTTP error answer (the inverse of
// daemon::HttpStatusFor for the codes the admin API uses).
Status StatusFromHttp(int http_status, const std::string& body) {
  std::string detail = "HTTP " + std::to_string(http_status);
  json j = codec::ParseJson(body);
  if (j.is_object()) {
    if (j.contains("detail") && j["detail"].is_string()) {
      detail = j["detail"].get<std::string>();
    } else if (j.contains("error") && j["error"].is_string()) {
      detail = j["error"].get<std::string>();
    }
  }
  switch (http_status) {
    case 400: return MalformedError(detail);
    case 401:
      return Status(StatusCode::kPermissionDenied,
                    "the daemon rejected the admin token: " + detail);
    case 404: return NotFoundError(detail);
    case 409: return Status(StatusCode::kFailedPrecondition, detail);
    case 422: return InvalidArgumentError(detail);
    case 503: return UnavailableError(detail);
    default: return InternalError(detail);
  }
}

}  // namespace

AdminClient::AdminClient(AdminClientOptions options)
    : options_(std::move(options)) {}

AdminClient::~AdminClient() = default;

Result<std::string> AdminClient::Token() {
  if (token_) return *token_;
  std::string path = options_.token_file;
  if (path.empty()) {
    if (options_.data_dir.empty()) {
      return InvalidArgumentError(
          "the admin API needs its token: give --data-dir or --token-file");
    }
    path = admin_api::AdminTokenPath(options_.data_dir);
  }
  Result<std::string> t = admin_api::ReadAdminToken(path);
  if (!t.ok()) {
    return InvalidArgumentError("admin token: " + t.status().detail());
  }
  token_ = *t;
  return *t;
}

Result<json> AdminClient::Call(const std::string& method, const std::string& path,
                               const std::multimap<std::string, std::string>& params) {
  if (options_.admin_url.empty() && !options_.data_dir.empty()) {
    // A running daemon says where its admin API listens (portd.json).
    std::ifstream info(std::filesystem::path(options_.data_dir) / admin_api::kDaemonInfoFile);
    const std::string text{std::istreambuf_iterator<char>(info),
                           std::istreambuf_iterator<char>()};
    json doc = codec::ParseJson(text);  // a missing file: discarded
    if (doc.is_object() && doc.value("admin_port", 0) > 0) {
      options_.admin_url =
          "http://127.0.0.1:" + std::to_string(doc.value("admin_port", 0));
    }
  }
  if (options_.admin_url.empty()) {
    return Status(StatusCode::kUnavailable, kDaemonUnreachable,
                  "no --admin URL given and no running daemon in --data-dir");
  }
  std::string url = options_.admin_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  // Checked here: httplib throws on other schemes and treats a path as part
  // of the host name.
  const bool http = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  const size_t host_at = url.find("://") + 3;
  if (!http || url.find('/', host_at) != std::string::npos ||
      host_at == url.size()) {
    return InvalidArgumentError("--admin " + options_.admin_url +
                                ": expected http://HOST:PORT or https://HOST:PORT");
  }
  MIMI_ASSIGN_OR_RETURN(std::string token, Token());
  httplib::Client client(url);
  if (!client.is_valid()) {
    return InvalidArgumentError("--admin " + options_.admin_url +
                                ": not a usable URL");
  }
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(30));
  httplib::Headers headers = {{"Authorization", "Bearer " + token}};
  httplib::Params query(params.begin(), params.end());
  httplib::Result r = method == "GET"
                          ? client.Get(path, query, headers)
                          : client.Post(path, headers, "", "application/json");
  if (!r) {
    return Status(StatusCode::kUnavailable, kDaemonUnreachable,
                  "daemon unreachable at " + options_.admin_url + " (" +
                      httplib::to_string(r.error()) + ")");
  }
  if (r->status >= 300) return StatusFromHttp(r->status, r->body);
  json body = codec::ParseJson(r->body);
  if (body.is_discarded()) {
    return InternalError("the daemon answered " + path + " with non-JSON");
  }
  return body;
}

Status AdminClient::FallBack(const std::string& why) {
  if (options_.data_dir.empty()) {
    return Status(StatusCode::kUnavailable, kDaemonUnreachable,
                  why + "; give --data-dir to read the database instead");
  }
  const std::string db =
      (std::filesystem::path(options_.data_dir) / admin_api::kDatabaseFile)
          .string();
  Result<std::unique_ptr<store::SqliteStore>> s =
      store::SqliteStore::OpenReadOnly(db, SystemClock::Get());
  if (!s.ok()) {
    return Status(StatusCode::kUnavailable, kDaemonUnreachable,
                  why + "; and the database cannot be read: " +
                      s.status().detail());
  }
  store_ = std::move(s).value();
  std::cerr << "daemon unreachable; read-only from " << db << " (" << why
            << ")\n";
  return Status::Ok();
}

Result<json> AdminClient::Read(const std::string& path,
                               const std::multimap<std::string, std::string>& params,
                               const LocalRead& local) {
  if (!daemon_down_) {
    Result<json> r = Call("GET", path, params);
    if (r.ok() || r.status().reason() != kDaemonUnreachable) return r;
    daemon_down_ = true;
    MIMI_RETURN_IF_ERROR(FallBack(r.status().detail()));
  }
  return local(*store_, SystemClock::Get().NowMillis());
}

Result<json> AdminClient::List(const std::string& state, const std::string& role,
                               const std::string& group, const std::string& limit) {
  MIMI_ASSIGN_OR_RETURN(store::ListFilter filter,
                        admin_api::ParseListFilter(state, role, group, limit));
  std::multimap<std::string, std::string> params;
  if (!state.empty()) params.emplace("state", state);
  if (!role.empty()) params.emplace("role", role);
  if (!group.empty()) params.emplace("group", group);
  if (!limit.empty()) params.emplace("limit", limit);
  return Read(admin_api::kMigrationsPath, params,
              [&filter](store::Store& s, UnixMillis now) {
                return admin_api::ListView(s, filter, now);
              });
}

Result<json> AdminClient::Show(const std::string& id_text) {
  MIMI_ASSIGN_OR_RETURN(std::string id, store::ParseMigrationId(id_text));
  return Read(std::string(admin_api::kMigrationsPath) + "/" + id, {},
              [&id](store::Store& s, UnixMillis now) {
                return admin_api::ShowView(s, id, now);
              });
}

Result<json> AdminClient::Stats() {
  return Read(admin_api::kStatsPath, {}, [](store::Store& s, UnixMillis now) {
    return admin_api::StatsView(s, now);
  });
}

Result<json> AdminClient::Act(const std::string& id_text,
                              const std::string& action) {
  MIMI_ASSIGN_OR_RETURN(std::string id, store::ParseMigrationId(id_text));
  Result<json> r = Call(
      "POST", std::string(admin_api::kMigrationsPath) + "/" + id + "/" + action,
      {});
  if (!r.ok() && r.status().reason() == kDaemonUnreachable) {
    return Status(StatusCode::kUnavailable, kDaemonUnreachable,
                  r.status().detail() + "; " + action +
                      " acts through the running daemon, so nothing was done");
  }
  return r;
}

}  // namespace mimi::cli
