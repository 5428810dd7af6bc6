// The key document a DS publishes at GET /.well-known/mimi-portability
// (docs/protocol.md §2.3-§2.4):
//
//   {"domain": "ds.example", "valid_until": <unix ms>,
//    "keys":     [{"ciphersuite": 1, "scheme": "ed25519",
//                  "key_id": "<16 hex>", "public_key": "<base64>"}],
//    "old_keys": [{... same ..., "expires": <unix ms>}]}
//
// modelled on Matrix's verify_keys / old_verify_keys. Public keys are the
// MLS encodings in standard base64. ParseKeyDocument is strict about what it
// understands (types, sizes, key encodings, the key id matching the key, one
// current key per suite, the domain being the one asked for) and lenient
// about what it does not: unknown members and entries for ciphersuites this
// build does not support are skipped, so a peer may add suites and fields.
//
// Pure functions; thread-safe.
#ifndef MIMI_KEYS_KEY_DOCUMENT_H_
#define MIMI_KEYS_KEY_DOCUMENT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ciphersuite.h"
#include "crypto/public_key.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"

namespace mimi::keys {

inline constexpr std::string_view kKeyDocumentPath =
    "/.well-known/mimi-portability";
// Documents larger than this are refused before parsing.
inline constexpr size_t kMaxKeyDocumentBytes = 64 * 1024;

struct PublishedKey {
  crypto::CipherSuiteId ciphersuite = 0;
  crypto::PublicKey public_key;
  std::string key_id;
  std::optional<UnixMillis> expires;  // old keys only
};

struct KeyDocument {
  std::string domain;
  UnixMillis valid_until = 0;
  std::vector<PublishedKey> keys;
  std::vector<PublishedKey> old_keys;
};

std::string SerializeKeyDocument(const KeyDocument& doc);

// kMalformed (naming the member) for anything that breaks the format;
// kInvalidArgument if the document is for another domain than `domain`.
Result<KeyDocument> ParseKeyDocument(std::string_view text,
                                     std::string_view domain);

}  // namespace mimi::keys

#endif  // MIMI_KEYS_KEY_DOCUMENT_H_
