// AdminClient: where mimi-portctl's operator commands get their answers.
// Reads go to the daemon's admin API (--admin URL, bearer token from
// <data-dir>/admin.token or --token-file); when the daemon cannot be reached
// (or no URL was given) they fall back to <data-dir>/mimi.db opened
// read-only, building the same JSON documents (admin_api/admin_views.h), and
// say so once on stderr. Writes (retry, abort) only ever go to the daemon,
// since they must act through its protocol engine.
//
// Errors are Status values: kUnavailable means "daemon unreachable" (exit
// 4); HTTP answers map back to the codes the daemon used. Single-threaded,
// like the CLI.
#ifndef MIMI_TOOLS_CLI_ADMIN_CLIENT_H_
#define MIMI_TOOLS_CLI_ADMIN_CLIENT_H_

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "store/sqlite_store.h"

namespace mimi::cli {

struct AdminClientOptions {
  std::string admin_url;   // http://127.0.0.1:PORT; empty = no daemon
  std::string data_dir;    // holds admin.token and mimi.db
  std::string token_file;  // overrides <data_dir>/admin.token
};

class AdminClient {
 public:
  explicit AdminClient(AdminClientOptions options);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Filters as in admin_api::ParseListFilter; checked here first, so a typo is
  // reported the same way whichever path answers.
  Result<nlohmann::json> List(const std::string& state, const std::string& role,
                              const std::string& group,
                              const std::string& limit);
  Result<nlohmann::json> Show(const std::string& id);
  Result<nlohmann::json> Stats();
  // action is "retry" or "abort".
  Result<nlohmann::json> Act(const std::string& id, const std::string& action);

  bool read_only() const { return store_ != nullptr; }

 private:
  using LocalRead = std::function<Result<nlohmann::json>(store::Store&, UnixMillis)>;
  // GET `path` from the daemon, or run `local` on the read-only database
  // when the daemon is unreachable.
  Result<nlohmann::json> Read(const std::string& path,
                              const std::multimap<std::string, std::string>& params,
                              const LocalRead& local);
  // One request to the daemon; kUnavailable with reason
  // "daemon-unreachable" when no HTTP answer came back.
  Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                              const std::multimap<std::string, std::string>& params);
  Result<std::string> Token();
  Status FallBack(const std::string& why);

  AdminClientOptions options_;
  std::optional<std::string> token_;
  bool daemon_down_ = false;
  std::unique_ptr<store::SqliteStore> store_;  // set once fallen back
};

}  // namespace mimi::cli

#endif  // MIMI_TOOLS_CLI_ADMIN_CLIENT_H_
