#include "keys/ds_key_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

#include "codec/json_text.h"
#include "crypto/secret_bytes.h"
#include "keys/key_id.h"

namespace mimi::keys {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kManifest[] = "keys.json";
constexpr char kManifestFormat[] = "mimi-portability-ds-keys";
constexpr size_t kMaxFileBytes = 1 << 20;

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Writes `data` to a new file of mode 0600 and fsyncs it. `exclusive`
// refuses to replace an existing file.
Status WriteFileSync(const fs::path& path, std::string_view data,
                     bool exclusive) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) return InternalError(Errno("cannot create " + path.string()));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = InternalError(Errno("cannot write " + path.string()));
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = InternalError(Errno("cannot fsync " + path.string()));
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return InternalError(Errno("close " + path.string()));
  return Status::Ok();
}

void SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Reads a whole file into memory that is wiped afterwards; the file must be
// a regular file that only its owner can access.
Result<crypto::SecretBytes> ReadPrivateFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError(path.string() + " is missing");
    return InternalError(Errno("cannot open " + path.string()));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(StatusCode::kFailedPrecondition,
                  path.string() + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%03o",
                  static_cast<unsigned>(st.st_mode & 0777));
    return Status(StatusCode::kFailedPrecondition,
                  path.string() + " is accessible by group or others (mode " +
                      mode + "); chmod 600 it");
  }
  if (static_cast<size_t>(st.st_size) > kMaxFileBytes) {
    ::close(fd);
    return MalformedError(path.string() + " is too large for a key file");
  }
  Bytes buf(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  crypto::SecretBytes secret(ByteSpan(buf.data(), done));
  crypto::Cleanse(buf.data(), buf.size());
  return secret;
}

bool IsPlainFileName(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

Result<std::unique_ptr<DsKeyStore>> DsKeyStore::Open(
    const fs::path& dir, const std::vector<crypto::CipherSuiteId>& suites,
    const Clock& clock) {
  std::vector<crypto::CipherSuiteId> sorted = suites;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  if (sorted.empty()) {
    return InvalidArgumentError("key store: no ciphersuites configured");
  }
  for (crypto::CipherSuiteId s : sorted) {
    MIMI_RETURN_IF_ERROR(crypto::LookupCipherSuite(s).status());
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return InternalError("cannot create key directory " + dir.string() + ": " +
                         ec.message());
  }
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    return InternalError("cannot chmod 700 " + dir.string() + ": " +
                         ec.message());
  }
  std::unique_ptr<DsKeyStore> store(new DsKeyStore(dir, sorted, clock));
  MutexLock lock(store->mu_);
  MIMI_RETURN_IF_ERROR(store->LoadLocked());
  const size_t before = store->entries_.size();
  store->PruneExpiredLocked();
  bool changed = store->entries_.size() != before;
  for (crypto::CipherSuiteId s : sorted) {
    bool has_current = std::any_of(
        store->entries_.begin(), store->entries_.end(), [&](const Entry& e) {
          return e.info.ciphersuite == s && !e.info.expires.has_value();
        });
    if (has_current) continue;
    MIMI_ASSIGN_OR_RETURN(Entry e, store->CreateKeyLocked(s));
    store->entries_.push_back(std::move(e));
    changed = true;
  }
  if (changed) MIMI_RETURN_IF_ERROR(store->SaveManifestLocked());
  return store;
}

Result<std::unique_ptr<DsKeyStore>> DsKeyStore::OpenExisting(
    const fs::path& dir, const Clock& clock) {
  std::error_code ec;
  if (!fs::exists(dir / kManifest, ec)) {
    return NotFoundError("no key store in " + dir.string());
  }
  std::unique_ptr<DsKeyStore> store(new DsKeyStore(dir, {}, clock));
  MutexLock lock(store->mu_);
  MIMI_RETURN_IF_ERROR(store->LoadLocked());
  for (const Entry& e : store->entries_) {
    if (!e.info.expires) store->suites_.push_back(e.info.ciphersuite);
  }
  std::sort(store->suites_.begin(), store->suites_.end());
  return store;
}

Status DsKeyStore::LoadLocked() {
  const fs::path manifest = dir_ / kManifest;
  std::error_code ec;
  if (!fs::exists(manifest, ec)) return Status::Ok();  // a new store
  MIMI_ASSIGN_OR_RETURN(crypto::SecretBytes text, ReadPrivateFile(manifest));
  json j = codec::ParseJson(text.view());
  auto bad = [&](const std::string& why) {
    return MalformedError(manifest.string() + ": " + why);
  };
  if (!j.is_object() || j.value("format", "") != kManifestFormat ||
      !j.contains("keys") || !j["keys"].is_array()) {
    return bad("not a key store manifest");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int64_t>() != 1) {
    return bad("unsupported version");
  }
  for (const json& k : j["keys"]) {
    if (!k.is_object()) return bad("keys[] entry is not an object");
    const json* suite = k.contains("ciphersuite") ? &k["ciphersuite"] : nullptr;
    if (suite == nullptr || !suite->is_number_unsigned() ||
        suite->get<uint64_t>() > 0xffff) {
      return bad("keys[].ciphersuite missing or not a uint16");
    }
    auto cs = crypto::LookupCipherSuite(suite->get<crypto::CipherSuiteId>());
    if (!cs.ok()) return bad(cs.status().detail());
    if (!k.contains("file") || !k["file"].is_string() ||
        !IsPlainFileName(k["file"].get<std::string>())) {
      return bad("keys[].file missing or not a plain file name");
    }
    if (!k.contains("key_id") || !k["key_id"].is_string()) {
      return bad("keys[].key_id missing");
    }
    if (!k.contains("created") || !k["created"].is_number_integer()) {
      return bad("keys[].created missing");
    }
    std::optional<UnixMillis> expires;
    if (k.contains("expires") && !k["expires"].is_null()) {
      if (!k["expires"].is_number_integer()) return bad("keys[].expires");
      expires = k["expires"].get<int64_t>();
    }
    const std::string file = k["file"].get<std::string>();
    MIMI_ASSIGN_OR_RETURN(crypto::SecretBytes pem,
                          ReadPrivateFile(dir_ / file));
    auto key =
        crypto::SigningKey::FromPkcs8Pem(cs->signature_scheme, pem.view());
    if (!key.ok()) {
      return Status(key.status().code(),
                    (dir_ / file).string() + ": " + key.status().detail());
    }
    std::string id = KeyId(key->public_key());
    if (id != k["key_id"].get<std::string>()) {
      return bad("key_id of " + file + " does not match its key");
    }
    for (const Entry& e : entries_) {
      if (e.info.ciphersuite == cs->id && !e.info.expires && !expires) {
        return bad("two current keys for ciphersuite " +
                   std::to_string(cs->id));
      }
    }
    auto shared = std::make_shared<const crypto::SigningKey>(std::move(*key));
    entries_.push_back(Entry{DsPublicKey{cs->id, shared->public_key(), id,
                                         k["created"].get<int64_t>(), expires},
                             file, shared});
  }
  return Status::Ok();
}

Status DsKeyStore::SaveManifestLocked() const {
  json keys = json::array();
  for (const Entry& e : entries_) {
    keys.push_back(
        {{"ciphersuite", e.info.ciphersuite},
         {"key_id", e.info.key_id},
         {"file", e.file},
         {"created", e.info.created},
         {"expires", e.info.expires ? json(*e.info.expires) : json(nullptr)}});
  }
  json j = {{"format", kManifestFormat}, {"version", 1}, {"keys", keys}};
  const fs::path tmp = dir_ / (std::string(kManifest) + ".tmp");
  MIMI_RETURN_IF_ERROR(WriteFileSync(tmp, codec::DumpJson(j, 2) + "\n", false));
  std::error_code ec;
  fs::rename(tmp, dir_ / kManifest, ec);
  if (ec) {
    return InternalError("cannot replace " + (dir_ / kManifest).string() +
                         ": " + ec.message());
  }
  SyncDir(dir_);
  return Status::Ok();
}

Result<DsKeyStore::Entry> DsKeyStore::CreateKeyLocked(
    crypto::CipherSuiteId suite) {
  MIMI_ASSIGN_OR_RETURN(crypto::CipherSuite cs,
                        crypto::LookupCipherSuite(suite));
  MIMI_ASSIGN_OR_RETURN(crypto::SigningKey key,
                        crypto::SigningKey::Generate(cs.signature_scheme));
  MIMI_ASSIGN_OR_RETURN(crypto::SecretBytes pem, key.ToPkcs8Pem());
  std::string id = KeyId(key.public_key());
  std::string file = "suite" + std::to_string(suite) + "-" + id + ".pem";
  MIMI_RETURN_IF_ERROR(WriteFileSync(dir_ / file, pem.view(), true));
  SyncDir(dir_);
  auto shared = std::make_shared<const crypto::SigningKey>(std::move(key));
  return Entry{DsPublicKey{suite, shared->public_key(), id, clock_.NowMillis(),
                           std::nullopt},
               file, shared};
}

void DsKeyStore::PruneExpiredLocked() {
  const UnixMillis now = clock_.NowMillis();
  std::vector<Entry> kept;
  for (Entry& e : entries_) {
    if (e.info.expires && *e.info.expires <= now) {
      std::error_code ec;
      fs::remove(dir_ / e.file, ec);  // best effort; it is no longer listed
      continue;
    }
    kept.push_back(std::move(e));
  }
  entries_ = std::move(kept);
}

std::vector<crypto::CipherSuiteId> DsKeyStore::suites() const {
  return suites_;
}

Result<std::shared_ptr<const crypto::SigningKey>> DsKeyStore::SigningKeyFor(
    crypto::CipherSuiteId suite) const {
  MutexLock lock(mu_);
  if (std::find(suites_.begin(), suites_.end(), suite) != suites_.end()) {
    for (const Entry& e : entries_) {
      if (e.info.ciphersuite == suite && !e.info.expires) return e.key;
    }
  }
  return NotFoundError("no signing key for ciphersuite " +
                       std::to_string(suite));
}

std::vector<DsPublicKey> DsKeyStore::CurrentKeys() const {
  MutexLock lock(mu_);
  std::vector<DsPublicKey> out;
  for (crypto::CipherSuiteId s : suites_) {
    for (const Entry& e : entries_) {
      if (e.info.ciphersuite == s && !e.info.expires) out.push_back(e.info);
    }
  }
  return out;
}

std::vector<DsPublicKey> DsKeyStore::OldKeys() const {
  MutexLock lock(mu_);
  const UnixMillis now = clock_.NowMillis();
  std::vector<DsPublicKey> out;
  for (crypto::CipherSuiteId s : suites_) {
    for (const Entry& e : entries_) {
      if (e.info.ciphersuite == s && e.info.expires && *e.info.expires > now) {
        out.push_back(e.info);
      }
    }
  }
  return out;
}

Result<DsPublicKey> DsKeyStore::Rotate(crypto::CipherSuiteId suite,
                                       int64_t old_key_lifetime_ms) {
  if (old_key_lifetime_ms < 0) {
    return InvalidArgumentError("old key lifetime must not be negative");
  }
  MutexLock lock(mu_);
  if (std::find(suites_.begin(), suites_.end(), suite) == suites_.end()) {
    return NotFoundError("ciphersuite " + std::to_string(suite) +
                         " is not configured");
  }
  PruneExpiredLocked();
  auto current = std::find_if(entries_.begin(), entries_.end(), [&](auto& e) {
    return e.info.ciphersuite == suite && !e.info.expires;
  });
  MIMI_ASSIGN_OR_RETURN(Entry fresh, CreateKeyLocked(suite));
  const size_t current_index = current - entries_.begin();
  const bool had_current = current != entries_.end();
  if (had_current) {
    entries_[current_index].info.expires =
        clock_.NowMillis() + old_key_lifetime_ms;
  }
  DsPublicKey info = fresh.info;
  const std::string fresh_file = fresh.file;
  entries_.push_back(std::move(fresh));
  Status saved = SaveManifestLocked();
  if (!saved.ok()) {
    // Keep memory and disk in agreement: the manifest still lists the old
    // key as current.
    entries_.pop_back();
    if (had_current) entries_[current_index].info.expires.reset();
    std::error_code ec;
    fs::remove(dir_ / fresh_file, ec);
    return saved;
  }
  return info;
}

}  // namespace mimi::keys
