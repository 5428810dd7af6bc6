#include "keys/key_document_handler.h"

#include <algorithm>

namespace mimi::keys {

KeyDocument BuildKeyDocument(const std::string& domain, const DsKeyStore& store,
                             UnixMillis now, int64_t validity_ms) {
  KeyDocument doc;
  doc.domain = domain;
  doc.valid_until = now + validity_ms;
  for (const DsPublicKey& k : store.CurrentKeys()) {
    doc.keys.push_back(
        PublishedKey{k.ciphersuite, k.public_key, k.key_id, std::nullopt});
  }
  for (const DsPublicKey& k : store.OldKeys()) {
    doc.old_keys.push_back(
        PublishedKey{k.ciphersuite, k.public_key, k.key_id, k.expires});
  }
  return doc;
}

std::function<void(const httplib::Request&, httplib::Response&)>
KeyDocumentHandler(std::string domain, const DsKeyStore& store,
                   const Clock& clock, int64_t validity_ms) {
  return [domain = std::move(domain), &store, &clock, validity_ms](
             const httplib::Request&, httplib::Response& res) {
    KeyDocument doc =
        BuildKeyDocument(domain, store, clock.NowMillis(), validity_ms);
    res.set_header("Cache-Control",
                   "max-age=" + std::to_string(
                                    std::max<int64_t>(0, validity_ms / 1000)));
    res.set_content(SerializeKeyDocument(doc), "application/json");
  };
}

void RegisterKeyDocumentHandler(httplib::Server& server, std::string domain,
                                const DsKeyStore& store, const Clock& clock,
                                int64_t validity_ms) {
  server.Get(std::string(kKeyDocumentPath),
             KeyDocumentHandler(std::move(domain), store, clock, validity_ms));
}

}  // namespace mimi::keys
