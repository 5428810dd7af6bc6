// PeerKeyResolver: the public keys of other Delivery Services, for checking
// the signatures they make (MigrationResponse, MigrationContent, ...).
//
// For a domain it fetches the key document from the peer's address (a
// PeerLocator) over HTTPS (keys/peer_client.h: SNI and the certificate
// check are for the domain, not the address; the chain is verified against
// the configured CA bundle or the system store), and caches it until its
// valid_until (at most max_cache_ms). A signature is accepted under the
// current key of the suite or under an old key whose expiry has not passed.
// When a signature does not verify under the cached keys the document is
// fetched again, at most once per min_refetch_interval_ms per domain, so a
// rotation at the peer is picked up at once but a stream of forged
// signatures cannot make us hammer the peer. Configuration may pin a
// domain's keys instead; pinned domains are never fetched.
//
// Results: OK; kBadSignature (no known key verifies it); kUnavailable when
// the document cannot be obtained (connection, TLS, HTTP status, a malformed
// or expired document: all retryable, never a crash; reason "peer-tls" when
// the peer's certificate did not verify); kInvalidArgument for a
// domain that is not a DNS name; kUnsupported for a suite outside 1..7.
//
// Thread-safe: the daemon calls it from many handler threads. Fetches for one
// domain are single-flight (others wait for the result); different domains
// do not block each other. The clock must outlive the resolver.
#ifndef MIMI_KEYS_PEER_KEY_RESOLVER_H_
#define MIMI_KEYS_PEER_KEY_RESOLVER_H_

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codec/mutex.h"
#include "crypto/ciphersuite.h"
#include "crypto/public_key.h"
#include "keys/key_document.h"
#include "keys/peer_address.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/messages.h"
#include "mimi_portability/status.h"

namespace mimi::keys {

struct PinnedKey {
  crypto::CipherSuiteId ciphersuite = 0;
  crypto::PublicKey public_key;
};

struct PeerKeyResolverOptions {
  PeerLocator locator = DefaultPeerLocator();
  // PEM file of trusted CAs; empty means the system trust store.
  std::string ca_bundle_path;
  // Lowercase domain -> its keys; such domains are never fetched.
  std::map<std::string, std::vector<PinnedKey>> pinned;
  int64_t min_refetch_interval_ms = 30'000;
  // After a failed fetch, callers get the same error without a new attempt
  // for this long.
  int64_t fetch_failure_backoff_ms = 2'000;
  int64_t max_cache_ms = 24LL * 60 * 60 * 1000;
  int64_t timeout_ms = 5'000;  // connect, read and write, each
};

class PeerKeyResolver {
 public:
  PeerKeyResolver(PeerKeyResolverOptions options, const Clock& clock);
  ~PeerKeyResolver();
  PeerKeyResolver(const PeerKeyResolver&) = delete;
  PeerKeyResolver& operator=(const PeerKeyResolver&) = delete;

  // VerifyWithLabel(key, label, content, signature) for some key that
  // `domain` has for `suite` (see the file comment for the results).
  Status VerifyWithLabel(std::string_view domain, crypto::CipherSuiteId suite,
                         std::string_view label, ByteSpan content,
                         ByteSpan signature);

  // The same check over a SignContent already serialized (label<V> and the
  // content, crypto::SignContentHeader): for a content too large to copy.
  Status VerifySignContent(std::string_view domain, crypto::CipherSuiteId suite,
                           std::string_view label, ByteSpan sign_content,
                           ByteSpan signature);

  // The signature of a protocol struct made by `domain`.
  template <typename T>
  Status VerifyMessage(std::string_view domain, crypto::CipherSuiteId suite,
                       const T& msg) {
    MIMI_ASSIGN_OR_RETURN(Bytes tbs, ToBeSigned(msg));
    return MessageSignatureResult<T>(
        VerifyWithLabel(domain, suite, SignatureLabel<T>(), tbs, msg.signature));
  }

  // VerifyMessage for a T whose SignContent (SignatureLabel<T>() and
  // ToBeSigned) the caller serialized itself, with the same results.
  template <typename T>
  Status VerifyMessageSignContent(std::string_view domain,
                                  crypto::CipherSuiteId suite,
                                  ByteSpan sign_content, ByteSpan signature) {
    return MessageSignatureResult<T>(VerifySignContent(
        domain, suite, SignatureLabel<T>(), sign_content, signature));
  }

  // The keys `domain` has now for `suite`: current first, then unexpired
  // old ones (fetching if the cache is stale).
  Result<std::vector<crypto::PublicKey>> KeysFor(std::string_view domain,
                                                 crypto::CipherSuiteId suite)
      EXCLUDES(map_mu_);

  // Key documents fetched successfully so far (for tests and metrics).
  uint64_t fetch_count() const { return fetch_count_.load(); }

 private:
  // One peer's cached key document.
  struct Entry {
    Mutex mu;  // held while fetching: one fetch per domain at a time
    std::shared_ptr<const KeyDocument> doc GUARDED_BY(mu);
    UnixMillis cache_until GUARDED_BY(mu) = 0;
    UnixMillis last_attempt GUARDED_BY(mu) =
        std::numeric_limits<UnixMillis>::min() / 2;
    // Of the last attempt; OK if it succeeded.
    Status last_error GUARDED_BY(mu);
  };

  // The signature check `s` as VerifyMessage reports it.
  template <typename T>
  static Status MessageSignatureResult(Status s) {
    if (s.ok()) return s;
    std::string detail =
        std::string(MessageName<T>()) + ".signature: " + s.detail();
    // Keep a finer reason (peer-tls) for the caller's logs and metrics.
    if (s.reason() != StatusCodeName(s.code())) {
      return Status(s.code(), std::string(s.reason()), std::move(detail));
    }
    return Status(s.code(), std::move(detail));
  }
  // Checks with `verify_one` against `domain`'s keys for `suite`,
  // refetching once as the file comment says; `label` names the check.
  Status VerifyWith(std::string_view domain, crypto::CipherSuiteId suite,
                    std::string_view label,
                    const std::function<bool(const crypto::PublicKey&)>&
                        verify_one);
  std::shared_ptr<Entry> EntryFor(const std::string& domain) EXCLUDES(map_mu_);
  // The cached document, fetching first if it is stale.
  Result<std::shared_ptr<const KeyDocument>> Current(const std::string& domain,
                                                     Entry& entry)
      EXCLUDES(entry.mu);
  // Fetches into `entry`.
  Status FetchLocked(const std::string& domain, Entry& entry)
      REQUIRES(entry.mu);
  Result<KeyDocument> Fetch(const std::string& domain);
  std::vector<crypto::PublicKey> Select(const KeyDocument& doc,
                                        crypto::CipherSuiteId suite) const;

  const PeerKeyResolverOptions options_;
  const Clock& clock_;
  Mutex map_mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_ GUARDED_BY(map_mu_);
  std::atomic<uint64_t> fetch_count_{0};
};

}  // namespace mimi::keys

#endif  // MIMI_KEYS_PEER_KEY_RESOLVER_H_
