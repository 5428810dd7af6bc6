#include "keys/peer_key_resolver.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "crypto/labeled_signature.h"

namespace mimi::keys {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Status VerifyAny(const std::vector<crypto::PublicKey>& keys,
                 std::string_view label, ByteSpan content, ByteSpan signature) {
  for (const auto& k : keys) {
    if (crypto::VerifyWithLabel(k, label, content, signature).ok()) {
      return Status::Ok();
    }
  }
  return Status(StatusCode::kBadSignature, "");
}

}  // namespace

struct PeerKeyResolver::Entry {
  std::mutex mu;  // held while fetching: one fetch per domain at a time
  std::shared_ptr<const KeyDocument> doc;
  UnixMillis cache_until = 0;
  UnixMillis last_attempt = std::numeric_limits<UnixMillis>::min() / 2;
  Status last_error;  // of the last attempt; OK if it succeeded
};

PeerKeyResolver::PeerKeyResolver(PeerKeyResolverOptions options,
                                 const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

PeerKeyResolver::~PeerKeyResolver() = default;

std::shared_ptr<PeerKeyResolver::Entry> PeerKeyResolver::EntryFor(
    const std::string& domain) {
  std::lock_guard<std::mutex> lock(map_mu_);
  auto& e = entries_[domain];
  if (!e) e = std::make_shared<Entry>();
  return e;
}

Result<KeyDocument> PeerKeyResolver::Fetch(const std::string& domain) {
  MIMI_ASSIGN_OR_RETURN(PeerAddress addr, options_.locator(domain));
  const std::string where = "key document of " + domain + " from " + addr.host +
                            ":" + std::to_string(addr.port);
  httplib::SSLClient cli(addr.host, addr.port);
  if (!options_.ca_bundle_path.empty()) {
    cli.set_ca_cert_path(options_.ca_bundle_path);
  }
  cli.enable_server_certificate_verification(true);
  cli.set_tcp_nodelay(true);
  cli.set_follow_location(false);
  const time_t sec = options_.timeout_ms / 1000;
  const time_t usec = (options_.timeout_ms % 1000) * 1000;
  cli.set_connection_timeout(sec, usec);
  cli.set_read_timeout(sec, usec);
  cli.set_write_timeout(sec, usec);

  std::string body;
  bool too_large = false;
  auto res =
      cli.Get(std::string(kKeyDocumentPath), {{"Accept", "application/json"}},
              [&](const char* data, size_t len) {
                if (body.size() + len > kMaxKeyDocumentBytes) {
                  too_large = true;
                  return false;
                }
                body.append(data, len);
                return true;
              });
  if (too_large) {
    return UnavailableError(where + ": larger than " +
                            std::to_string(kMaxKeyDocumentBytes) + " bytes");
  }
  if (!res) {
    std::string detail = where + ": " + httplib::to_string(res.error());
    if (res.error() == httplib::Error::SSLServerVerification) {
      // httplib checks the chain first; a chain that verified (result 0)
      // means the host name was not in the certificate.
      const long verify = cli.get_openssl_verify_result();
      detail += verify == 0 ? " (certificate does not name " + addr.host + ")"
                            : " (certificate verify result " +
                                  std::to_string(verify) + ")";
    }
    return UnavailableError(detail);
  }
  if (res->status != 200) {
    return UnavailableError(where + ": HTTP " + std::to_string(res->status));
  }
  auto doc = ParseKeyDocument(body, domain);
  if (!doc.ok()) {
    return UnavailableError(where + ": " + doc.status().ToString());
  }
  if (doc->valid_until <= clock_.NowMillis()) {
    return UnavailableError(where + ": expired (valid_until " +
                            std::to_string(doc->valid_until) + ")");
  }
  return doc;
}

Status PeerKeyResolver::FetchLocked(const std::string& domain, Entry& entry) {
  entry.last_attempt = clock_.NowMillis();
  auto doc = Fetch(domain);
  if (!doc.ok()) {
    entry.last_error = doc.status();
    return doc.status();
  }
  fetch_count_.fetch_add(1);
  entry.last_error = Status::Ok();
  entry.cache_until =
      std::min(doc->valid_until, clock_.NowMillis() + options_.max_cache_ms);
  entry.doc = std::make_shared<const KeyDocument>(std::move(*doc));
  return Status::Ok();
}

Result<std::shared_ptr<const KeyDocument>> PeerKeyResolver::Current(
    const std::string& domain, Entry& entry) {
  std::lock_guard<std::mutex> lock(entry.mu);
  const UnixMillis now = clock_.NowMillis();
  if (entry.doc && now < entry.cache_until) return entry.doc;
  if (!entry.last_error.ok() &&
      now - entry.last_attempt < options_.fetch_failure_backoff_ms) {
    return entry.last_error;
  }
  MIMI_RETURN_IF_ERROR(FetchLocked(domain, entry));
  return entry.doc;
}

std::vector<crypto::PublicKey> PeerKeyResolver::Select(
    const KeyDocument& doc, crypto::CipherSuiteId suite) const {
  std::vector<crypto::PublicKey> out;
  for (const auto& k : doc.keys) {
    if (k.ciphersuite == suite) out.push_back(k.public_key);
  }
  const UnixMillis now = clock_.NowMillis();
  for (const auto& k : doc.old_keys) {
    if (k.ciphersuite == suite && k.expires && *k.expires > now) {
      out.push_back(k.public_key);
    }
  }
  return out;
}

Result<std::vector<crypto::PublicKey>> PeerKeyResolver::KeysFor(
    std::string_view domain_in, crypto::CipherSuiteId suite) {
  MIMI_RETURN_IF_ERROR(ValidateDomainName(domain_in));
  MIMI_RETURN_IF_ERROR(crypto::LookupCipherSuite(suite).status());
  const std::string domain = Lower(domain_in);
  if (auto it = options_.pinned.find(domain); it != options_.pinned.end()) {
    std::vector<crypto::PublicKey> out;
    for (const auto& p : it->second) {
      if (p.ciphersuite == suite) out.push_back(p.public_key);
    }
    return out;
  }
  auto entry = EntryFor(domain);
  MIMI_ASSIGN_OR_RETURN(auto doc, Current(domain, *entry));
  return Select(*doc, suite);
}

Status PeerKeyResolver::VerifyWithLabel(std::string_view domain_in,
                                        crypto::CipherSuiteId suite,
                                        std::string_view label,
                                        ByteSpan content, ByteSpan signature) {
  MIMI_RETURN_IF_ERROR(ValidateDomainName(domain_in));
  MIMI_RETURN_IF_ERROR(crypto::LookupCipherSuite(suite).status());
  const std::string domain = Lower(domain_in);
  const std::string what = "signature by " + domain + " (ciphersuite " +
                           std::to_string(suite) + ", label " +
                           std::string(label) + ")";
  if (options_.pinned.count(domain) != 0) {
    MIMI_ASSIGN_OR_RETURN(auto keys, KeysFor(domain, suite));
    if (VerifyAny(keys, label, content, signature).ok()) return Status::Ok();
    return Status(StatusCode::kBadSignature,
                  what + " does not verify under the pinned keys");
  }
  auto entry = EntryFor(domain);
  MIMI_ASSIGN_OR_RETURN(auto doc, Current(domain, *entry));
  // Verification runs without the entry lock so that threads checking
  // signatures of the same peer do not queue behind each other.
  if (VerifyAny(Select(*doc, suite), label, content, signature).ok()) {
    return Status::Ok();
  }
  {
    std::lock_guard<std::mutex> lock(entry->mu);
    if (entry->doc == doc) {
      // Nobody refetched meanwhile; maybe the peer rotated its key.
      if (clock_.NowMillis() - entry->last_attempt <
          options_.min_refetch_interval_ms) {
        return Status(StatusCode::kBadSignature,
                      what + " does not verify under its published keys");
      }
      Status fetched = FetchLocked(domain, *entry);
      if (!fetched.ok()) {
        return UnavailableError(what +
                                " does not verify under the cached "
                                "keys and refetching failed: " +
                                fetched.detail());
      }
    }
    doc = entry->doc;
  }
  if (VerifyAny(Select(*doc, suite), label, content, signature).ok()) {
    return Status::Ok();
  }
  return Status(StatusCode::kBadSignature,
                what + " does not verify under its published keys");
}

}  // namespace mimi::keys
