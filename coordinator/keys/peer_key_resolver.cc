#include "keys/peer_key_resolver.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>

#include "crypto/labeled_signature.h"
#include "keys/peer_client.h"
#include "mimi_portability/domain_name.h"

namespace mimi::keys {
namespace {

Status VerifyAny(const std::vector<crypto::PublicKey>& keys,
                 const std::function<bool(const crypto::PublicKey&)>& verify_one) {
  for (const auto& k : keys) {
    if (verify_one(k)) return Status::Ok();
  }
  return Status(StatusCode::kBadSignature, "");
}

}  // namespace

PeerKeyResolver::PeerKeyResolver(PeerKeyResolverOptions options,
                                 const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

PeerKeyResolver::~PeerKeyResolver() = default;

std::shared_ptr<PeerKeyResolver::Entry> PeerKeyResolver::EntryFor(
    const std::string& domain) {
  MutexLock lock(map_mu_);
  auto& e = entries_[domain];
  if (!e) e = std::make_shared<Entry>();
  return e;
}

Result<KeyDocument> PeerKeyResolver::Fetch(const std::string& domain) {
  PeerClientOptions po;
  po.locator = options_.locator;
  po.ca_file = options_.ca_bundle_path;
  po.connect_timeout = po.read_timeout = po.write_timeout =
      std::chrono::milliseconds(options_.timeout_ms);
  MIMI_ASSIGN_OR_RETURN(PeerClient cli, MakePeerClient(domain, po));
  const std::string what = "key document of " + domain;
  const std::string where = what + " at " + cli.address.host + ":" +
                            std::to_string(cli.address.port);

  std::string body;
  bool too_large = false;
  auto res = cli.http->Get(
      std::string(kKeyDocumentPath), {{"Accept", "application/json"}},
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
  if (!res) return cli.RequestError(what, res.error());
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
  MutexLock lock(entry.mu);
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
  const std::string domain = LowercaseDomain(domain_in);
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

Status PeerKeyResolver::VerifyWithLabel(std::string_view domain,
                                        crypto::CipherSuiteId suite,
                                        std::string_view label,
                                        ByteSpan content, ByteSpan signature) {
  return VerifyWith(domain, suite, label, [&](const crypto::PublicKey& k) {
    return crypto::VerifyWithLabel(k, label, content, signature).ok();
  });
}

Status PeerKeyResolver::VerifySignContent(std::string_view domain,
                                          crypto::CipherSuiteId suite,
                                          std::string_view label,
                                          ByteSpan sign_content,
                                          ByteSpan signature) {
  return VerifyWith(domain, suite, label, [&](const crypto::PublicKey& k) {
    return k.Verify(sign_content, signature).ok();
  });
}

Status PeerKeyResolver::VerifyWith(
    std::string_view domain_in, crypto::CipherSuiteId suite,
    std::string_view label,
    const std::function<bool(const crypto::PublicKey&)>& verify_one) {
  MIMI_RETURN_IF_ERROR(ValidateDomainName(domain_in));
  MIMI_RETURN_IF_ERROR(crypto::LookupCipherSuite(suite).status());
  const std::string domain = LowercaseDomain(domain_in);
  const std::string what = "signature by " + domain + " (ciphersuite " +
                           std::to_string(suite) + ", label " +
                           std::string(label) + ")";
  if (options_.pinned.count(domain) != 0) {
    MIMI_ASSIGN_OR_RETURN(auto keys, KeysFor(domain, suite));
    if (VerifyAny(keys, verify_one).ok()) return Status::Ok();
    return Status(StatusCode::kBadSignature,
                  what + " does not verify under the pinned keys");
  }
  auto entry = EntryFor(domain);
  MIMI_ASSIGN_OR_RETURN(auto doc, Current(domain, *entry));
  // Verification runs without the entry lock so that threads checking
  // signatures of the same peer do not queue behind each other.
  if (VerifyAny(Select(*doc, suite), verify_one).ok()) {
    return Status::Ok();
  }
  {
    MutexLock lock(entry->mu);
    if (entry->doc == doc) {
      // Nobody refetched meanwhile; maybe the peer rotated its key.
      if (clock_.NowMillis() - entry->last_attempt <
          options_.min_refetch_interval_ms) {
        return Status(StatusCode::kBadSignature,
                      what + " does not verify under its published keys");
      }
      Status fetched = FetchLocked(domain, *entry);
      if (!fetched.ok()) {
        return Status(StatusCode::kUnavailable, std::string(fetched.reason()),
                      what +
                          " does not verify under the cached keys and "
                          "refetching failed: " +
                          fetched.detail());
      }
    }
    doc = entry->doc;
  }
  if (VerifyAny(Select(*doc, suite), verify_one).ok()) {
    return Status::Ok();
  }
  return Status(StatusCode::kBadSignature,
                what + " does not verify under its published keys");
}

}  // namespace mimi::keys
