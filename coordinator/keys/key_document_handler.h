// Publishing this DS's key document: BuildKeyDocument() turns the key store
// into a KeyDocument, KeyDocumentHandler() is the one handler of
// GET /.well-known/mimi-portability (the daemon mounts it through its own
// server wrapper), and RegisterKeyDocumentHandler() installs it on a bare
// httplib server.
//
// The handler builds the document on each request from the store, so a
// rotation is visible at once; each answer is valid for `validity_ms` from
// the moment it is served, and says so in Cache-Control as well. The store
// and the clock must outlive the server. Thread-safe like the store.
#ifndef MIMI_KEYS_KEY_DOCUMENT_HANDLER_H_
#define MIMI_KEYS_KEY_DOCUMENT_HANDLER_H_

#include <httplib.h>

#include <functional>
#include <string>

#include "keys/ds_key_store.h"
#include "keys/key_document.h"
#include "mimi_portability/clock.h"

namespace mimi::keys {

// One hour: short enough that peers pick up a rotation soon even without a
// failed verification, long enough that they rarely ask.
inline constexpr int64_t kDefaultKeyDocumentValidityMs = 60 * 60 * 1000;

KeyDocument BuildKeyDocument(const std::string& domain, const DsKeyStore& store,
                             UnixMillis now, int64_t validity_ms);

// The handler: the document with Cache-Control max-age = validity.
std::function<void(const httplib::Request&, httplib::Response&)>
KeyDocumentHandler(std::string domain, const DsKeyStore& store,
                   const Clock& clock,
                   int64_t validity_ms = kDefaultKeyDocumentValidityMs);

void RegisterKeyDocumentHandler(
    httplib::Server& server, std::string domain, const DsKeyStore& store,
    const Clock& clock, int64_t validity_ms = kDefaultKeyDocumentValidityMs);

}  // namespace mimi::keys

#endif  // MIMI_KEYS_KEY_DOCUMENT_HANDLER_H_
