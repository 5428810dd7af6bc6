// DsKeyStore: this Delivery Service's own signing keys, one current key per
// configured ciphersuite, kept in its data directory.
//
// Layout: <dir>/keys.json lists every key (suite, key id, file, created,
// expires); each private key is an unencrypted PKCS#8 PEM file of mode 0600
// in <dir> (mode 0700). Open() loads what is there, refuses key files that
// others can read (as ssh does), and generates a key for each configured
// suite that has none. Rotate() makes a fresh key current; the previous one
// becomes an "old" key that keeps verifying (it stays in the key document)
// until its expiry, after which it is deleted from disk. The manifest is
// replaced atomically (write, fsync, rename), so a crash leaves either the
// old or the new set of keys. Suites present on disk but not configured are
// left untouched and unpublished.
//
// Thread-safe: the daemon signs from many handler threads while an operator
// may rotate. One process per directory (not enforced).
#ifndef MIMI_KEYS_DS_KEY_STORE_H_
#define MIMI_KEYS_DS_KEY_STORE_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/mutex.h"
#include "crypto/ciphersuite.h"
#include "crypto/public_key.h"
#include "crypto/signing_key.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"

namespace mimi::keys {

// A public key as the store (and the key document) describes it.
struct DsPublicKey {
  crypto::CipherSuiteId ciphersuite = 0;
  crypto::PublicKey public_key;
  std::string key_id;
  UnixMillis created = 0;
  std::optional<UnixMillis> expires;  // set only for old (rotated-out) keys
};

class DsKeyStore {
 public:
  // Opens (creating if needed) the store in `dir` for `suites`; kUnsupported
  // for a suite outside 1..7, kFailedPrecondition for key files readable by
  // others, kMalformed for a damaged manifest or key file.
  static Result<std::unique_ptr<DsKeyStore>> Open(
      const std::filesystem::path& dir,
      const std::vector<crypto::CipherSuiteId>& suites, const Clock& clock);

  // Opens an existing store for the suites it has current keys for, without
  // generating or deleting anything (for operator tools); kNotFound if `dir`
  // holds no store.
  static Result<std::unique_ptr<DsKeyStore>> OpenExisting(
      const std::filesystem::path& dir, const Clock& clock);

  const std::filesystem::path& dir() const { return dir_; }
  std::vector<crypto::CipherSuiteId> suites() const;

  // The current signing key for `suite`; kNotFound if it is not configured.
  Result<std::shared_ptr<const crypto::SigningKey>> SigningKeyFor(
      crypto::CipherSuiteId suite) const EXCLUDES(mu_);
  // Current keys of the configured suites, in suite order.
  std::vector<DsPublicKey> CurrentKeys() const EXCLUDES(mu_);
  // Old keys of configured suites that have not expired yet.
  std::vector<DsPublicKey> OldKeys() const EXCLUDES(mu_);

  // Makes a fresh key current for `suite`; the previous key keeps verifying
  // for `old_key_lifetime_ms` more. Returns the new key's description.
  Result<DsPublicKey> Rotate(crypto::CipherSuiteId suite,
                             int64_t old_key_lifetime_ms) EXCLUDES(mu_);

  struct Entry {
    DsPublicKey info;
    std::string file;  // relative to dir_
    std::shared_ptr<const crypto::SigningKey> key;
  };

 private:
  DsKeyStore(std::filesystem::path dir,
             std::vector<crypto::CipherSuiteId> suites, const Clock& clock)
      : dir_(std::move(dir)), suites_(std::move(suites)), clock_(clock) {}

  Status LoadLocked() REQUIRES(mu_);
  Status SaveManifestLocked() const REQUIRES(mu_);
  Result<Entry> CreateKeyLocked(crypto::CipherSuiteId suite) REQUIRES(mu_);
  void PruneExpiredLocked() REQUIRES(mu_);

  const std::filesystem::path dir_;
  // Fixed once opened (Open/OpenExisting fill it before anyone else sees
  // the store), so read without mu_.
  std::vector<crypto::CipherSuiteId> suites_;
  const Clock& clock_;

  mutable Mutex mu_;
  // Every key on disk, configured or not.
  std::vector<Entry> entries_ GUARDED_BY(mu_);
};

}  // namespace mimi::keys

#endif  // MIMI_KEYS_DS_KEY_STORE_H_
