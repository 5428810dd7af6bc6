// Fuzz check for the key document parser (keys/key_document.h), which reads
// what a peer serves at /.well-known/mimi-portability. Same shape as
// fuzz::CheckMessage: "" or a violation, and whether the input was accepted.
//
// The document is parsed as the one of "ds.example". It must be rejected as
// kMalformed with a detail naming "KeyDocument" or one of its members, or as
// kInvalidArgument "KeyDocument.domain: ..." (another domain), or accepted:
// then every key's id is the id of its key, there is one current key per
// ciphersuite, and SerializeKeyDocument gives a document that parses to the
// same keys, domain and validity. Nothing may throw.
// Pure; thread-safe.
#ifndef MIMI_TESTS_FUZZ_FUZZ_KEY_DOCUMENT_H_
#define MIMI_TESTS_FUZZ_FUZZ_KEY_DOCUMENT_H_

#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key_document.h"
#include "keys/key_id.h"
#include "mimi_portability/bytes.h"

namespace mimi {
namespace fuzz_key_document {

inline constexpr std::string_view kDomain = "ds.example";

inline bool SameKeys(const std::vector<keys::PublishedKey>& a,
                     const std::vector<keys::PublishedKey>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].ciphersuite != b[i].ciphersuite ||
        !(a[i].public_key == b[i].public_key) || a[i].key_id != b[i].key_id ||
        a[i].expires != b[i].expires) {
      return false;
    }
  }
  return true;
}

inline std::string Check(std::string_view text, bool* accepted) {
  Result<keys::KeyDocument> doc = keys::ParseKeyDocument(text, kDomain);
  if (accepted != nullptr) *accepted = doc.ok();
  if (!doc.ok()) {
    const Status& s = doc.status();
    const std::string& d = s.detail();
    if (s.code() == StatusCode::kInvalidArgument) {
      if (!d.starts_with("KeyDocument.domain: ")) {
        return "KeyDocument: invalid-argument not about the domain: " +
               s.ToString();
      }
      return "";
    }
    if (s.code() != StatusCode::kMalformed) {
      return "KeyDocument: rejected with an unexpected code: " + s.ToString();
    }
    if (!d.starts_with("KeyDocument.") && !d.starts_with("KeyDocument: ")) {
      return "KeyDocument: error detail does not name the document: " + d;
    }
    return "";
  }
  std::set<crypto::CipherSuiteId> suites;
  for (const auto* list : {&doc->keys, &doc->old_keys}) {
    for (const keys::PublishedKey& k : *list) {
      if (k.key_id != keys::KeyId(k.public_key)) {
        return "KeyDocument: accepted key id " + k.key_id +
               " that is not its key's";
      }
      if (list == &doc->keys && !suites.insert(k.ciphersuite).second) {
        return "KeyDocument: accepted two current keys for suite " +
               std::to_string(k.ciphersuite);
      }
      if ((list == &doc->old_keys) != k.expires.has_value()) {
        return "KeyDocument: expires set on a current key or missing on an "
               "old one";
      }
    }
  }
  const std::string again = keys::SerializeKeyDocument(*doc);
  Result<keys::KeyDocument> reparsed = keys::ParseKeyDocument(again, kDomain);
  if (!reparsed.ok()) {
    return "KeyDocument: its own serialization does not parse: " +
           reparsed.status().ToString();
  }
  if (reparsed->domain != doc->domain ||
      reparsed->valid_until != doc->valid_until ||
      !SameKeys(reparsed->keys, doc->keys) ||
      !SameKeys(reparsed->old_keys, doc->old_keys)) {
    return "KeyDocument: its own serialization parses to another document: " +
           again;
  }
  return "";
}

}  // namespace fuzz_key_document

inline std::string CheckKeyDocument(ByteSpan input, bool* accepted) {
  try {
    return fuzz_key_document::Check(
        std::string_view(reinterpret_cast<const char*>(input.data()),
                         input.size()),
        accepted);
  } catch (const std::exception& e) {
    return std::string("KeyDocument: the parser threw: ") + e.what();
  }
}

}  // namespace mimi

#endif  // MIMI_TESTS_FUZZ_FUZZ_KEY_DOCUMENT_H_
