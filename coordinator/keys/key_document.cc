#include "keys/key_document.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "codec/json_text.h"
#include "keys/base64.h"
#include "keys/key_id.h"
#include "mimi_portability/domain_name.h"

namespace mimi::keys {
namespace {

using nlohmann::json;

constexpr size_t kMaxEntries = 64;

json KeyToJson(const PublishedKey& k) {
  auto cs = crypto::LookupCipherSuite(k.ciphersuite);
  json j = {{"ciphersuite", k.ciphersuite},
            {"scheme", crypto::SchemeName(k.public_key.scheme())},
            {"key_id", k.key_id.empty() ? KeyId(k.public_key) : k.key_id},
            {"public_key", Base64Encode(k.public_key.encoded())}};
  if (k.expires) j["expires"] = *k.expires;
  return j;
}

// Parses one entry; std::nullopt (not an error) for an unsupported suite.
Result<std::optional<PublishedKey>> ParseEntry(const json& e,
                                               const std::string& where,
                                               bool old) {
  auto bad = [&](const std::string& field, const std::string& why) {
    return MalformedError("KeyDocument." + where + "." + field + ": " + why);
  };
  if (!e.is_object()) return bad("", "not an object");
  if (!e.contains("ciphersuite") || !e["ciphersuite"].is_number_unsigned() ||
      e["ciphersuite"].get<uint64_t>() > 0xffff) {
    return bad("ciphersuite", "missing or not a uint16");
  }
  auto cs =
      crypto::LookupCipherSuite(e["ciphersuite"].get<crypto::CipherSuiteId>());
  if (!cs.ok()) return std::optional<PublishedKey>();  // a suite we do not do
  if (!e.contains("scheme") || !e["scheme"].is_string()) {
    return bad("scheme", "missing or not a string");
  }
  if (e["scheme"].get<std::string>() !=
      crypto::SchemeName(cs->signature_scheme)) {
    return bad("scheme", "\"" + e["scheme"].get<std::string>() +
                             "\" is not the scheme of ciphersuite " +
                             std::to_string(cs->id));
  }
  if (!e.contains("public_key") || !e["public_key"].is_string()) {
    return bad("public_key", "missing or not a string");
  }
  MIMI_ASSIGN_OR_RETURN(Bytes raw,
                        Base64Decode(e["public_key"].get<std::string>(),
                                     "KeyDocument." + where + ".public_key"));
  auto key = crypto::PublicKey::Parse(cs->signature_scheme, raw);
  if (!key.ok()) return bad("public_key", key.status().detail());
  if (!e.contains("key_id") || !e["key_id"].is_string()) {
    return bad("key_id", "missing or not a string");
  }
  std::string id = KeyId(*key);
  if (e["key_id"].get<std::string>() != id) {
    return bad("key_id", "does not match the key");
  }
  std::optional<UnixMillis> expires;
  if (old) {
    if (!e.contains("expires") || !e["expires"].is_number_integer()) {
      return bad("expires", "missing or not an integer");
    }
    expires = e["expires"].get<int64_t>();
  }
  return std::optional<PublishedKey>(
      PublishedKey{cs->id, std::move(*key), std::move(id), expires});
}

}  // namespace

std::string SerializeKeyDocument(const KeyDocument& doc) {
  json keys = json::array();
  for (const auto& k : doc.keys) keys.push_back(KeyToJson(k));
  json old_keys = json::array();
  for (const auto& k : doc.old_keys) old_keys.push_back(KeyToJson(k));
  json j = {{"domain", doc.domain},
            {"valid_until", doc.valid_until},
            {"keys", keys},
            {"old_keys", old_keys}};
  return codec::DumpJson(j, 2) + "\n";
}

Result<KeyDocument> ParseKeyDocument(std::string_view text,
                                     std::string_view domain) {
  if (text.size() > kMaxKeyDocumentBytes) {
    return MalformedError("KeyDocument: larger than " +
                          std::to_string(kMaxKeyDocumentBytes) + " bytes");
  }
  json j = codec::ParseJson(text);
  if (j.is_discarded() || !j.is_object()) {
    return MalformedError("KeyDocument: not a JSON object");
  }
  KeyDocument doc;
  if (!j.contains("domain") || !j["domain"].is_string()) {
    return MalformedError("KeyDocument.domain: missing or not a string");
  }
  doc.domain = j["domain"].get<std::string>();
  if (LowercaseDomain(doc.domain) != LowercaseDomain(domain)) {
    return InvalidArgumentError("KeyDocument.domain: \"" + doc.domain +
                                "\" is not \"" + std::string(domain) + "\"");
  }
  if (!j.contains("valid_until") || !j["valid_until"].is_number_integer()) {
    return MalformedError("KeyDocument.valid_until: missing or not an integer");
  }
  doc.valid_until = j["valid_until"].get<int64_t>();
  for (const char* member : {"keys", "old_keys"}) {
    const bool old = std::string_view(member) == "old_keys";
    if (!j.contains(member)) {
      if (old) continue;  // no rotation yet
      return MalformedError("KeyDocument.keys: missing");
    }
    const json& arr = j[member];
    if (!arr.is_array()) {
      return MalformedError(std::string("KeyDocument.") + member +
                            ": not an array");
    }
    if (arr.size() > kMaxEntries) {
      return MalformedError(std::string("KeyDocument.") + member +
                            ": more than " + std::to_string(kMaxEntries) +
                            " entries");
    }
    for (size_t i = 0; i < arr.size(); ++i) {
      MIMI_ASSIGN_OR_RETURN(
          std::optional<PublishedKey> k,
          ParseEntry(arr[i],
                     std::string(member) + "[" + std::to_string(i) + "]", old));
      if (!k) continue;
      auto& list = old ? doc.old_keys : doc.keys;
      if (!old && std::any_of(list.begin(), list.end(), [&](const auto& x) {
            return x.ciphersuite == k->ciphersuite;
          })) {
        return MalformedError(
            "KeyDocument.keys: two current keys for "
            "ciphersuite " +
            std::to_string(k->ciphersuite));
      }
      list.push_back(std::move(*k));
    }
  }
  return doc;
}

}  // namespace mimi::keys
