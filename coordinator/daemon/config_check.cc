#include "daemon/config_check.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "admin_api/admin_paths.h"
#include "crypto/tls_files.h"
#include "daemon/daemon.h"
#include "daemon/ds_from_config.h"
#include "keys/ds_key_store.h"
#include "store/pg/pg_connection.h"
#include "store/pg/pg_schema_upgrade.h"
#include "store/schema_upgrade.h"
#include "store/sqlite_store.h"

namespace mimi::daemon {
namespace {

namespace fs = std::filesystem;

void CheckBundle(std::string_view setting, const std::string& path,
                 std::vector<Status>* out) {
  if (path.empty()) return;
  auto count = crypto::CountPemCertificates(path);
  if (!count.ok())
    out->push_back(SettingError(setting, count.status().detail()));
}

void CheckTls(const Config& c, std::vector<Status>* out) {
  const bool serves_tls =
      !c.tls.insecure_plain_http && !c.tls.terminated_by_proxy;
  if (serves_tls) {
    auto chain = crypto::CountPemCertificates(c.tls.cert_file);
    if (!chain.ok()) {
      out->push_back(SettingError("tls.cert", chain.status().detail()));
    } else if (Status pair = crypto::CheckCertificateKeyPair(c.tls.cert_file,
                                                             c.tls.key_file);
               !pair.ok()) {
      out->push_back(SettingError("tls.key", pair.detail()));
    }
  }
  CheckBundle("tls.ca", c.tls.ca_file, out);
}

void CheckDs(const Config& c, std::vector<Status>* out) {
  if (c.ds.mode != "http") return;
  if (auto secret = ReadSecretFile(c.ds.secret_file); !secret.ok()) {
    out->push_back(secret.status());
  }
  CheckBundle("ds.ca", c.ds.ca_file, out);
}

// The daemon creates data_dir (and its parents) at start.
void CheckDataDir(const Config& c, std::vector<Status>* out) {
  std::error_code ec;
  const fs::path dir(c.data_dir);
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      out->push_back(
          SettingError("data_dir", c.data_dir + " is not a directory"));
    } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      out->push_back(SettingError(
          "data_dir", c.data_dir + " is not writable by this user"));
    }
    return;
  }
  fs::path parent = fs::absolute(dir, ec).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec) &&
         parent != parent.root_path()) {
    parent = parent.parent_path();
  }
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    out->push_back(
        SettingError("data_dir", "cannot be created: " + parent.string() +
                                     " is not writable by this user"));
  }
}

// store.backend = "postgresql": the server answers with these credentials,
// and its schema is not newer than this binary's. Reads only.
void CheckPostgresql(const StoreConfig& st, std::vector<Status>* out) {
  store::pg::PgConnectOptions o;
  o.url = st.url;
  if (!st.password_file.empty()) {
    auto password = store::pg::ReadPasswordFile(st.password_file);
    if (!password.ok()) {
      out->push_back(
          SettingError("store.password_file", password.status().detail()));
      return;
    }
    o.password = *password;
  }
  auto c = store::pg::PgConnection::Open(o);
  if (!c.ok()) {
    out->push_back(SettingError("store.url", c.status().detail()));
    return;
  }
  auto version = store::pg::ReadPgSchemaVersion(**c);
  if (!version.ok()) {
    out->push_back(SettingError("store.url", version.status().detail()));
  } else if (*version > store::LatestSchemaVersion()) {
    out->push_back(SettingError(
        "store.url", "database schema version " + std::to_string(*version) +
                         " is newer than this binary's " +
                         std::to_string(store::LatestSchemaVersion())));
  }
}

void CheckStoredState(const Config& c, const Clock& clock,
                      std::vector<Status>* out) {
  std::error_code ec;
  const std::string db = Daemon::DatabasePath(c);
  if (c.store.backend == "postgresql") {
    CheckPostgresql(c.store, out);
  } else if (fs::exists(db, ec)) {
    auto store = store::SqliteStore::OpenReadOnly(db, clock);
    if (!store.ok()) {
      out->push_back(
          SettingError("data_dir", db + ": " + store.status().detail()));
    }
  }
  const fs::path keys = fs::path(c.data_dir) / "keys";
  if (fs::exists(keys, ec)) {
    auto opened = keys::DsKeyStore::OpenExisting(keys, clock);
    if (!opened.ok() && opened.status().code() != StatusCode::kNotFound) {
      out->push_back(SettingError(
          "data_dir", keys.string() + ": " + opened.status().detail()));
    }
  }
}

}  // namespace

std::vector<Status> CheckConfigFiles(const Config& config, const Clock& clock) {
  std::vector<Status> out;
  CheckTls(config, &out);
  CheckDs(config, &out);
  CheckDataDir(config, &out);
  CheckStoredState(config, clock, &out);
  return out;
}

}  // namespace mimi::daemon
