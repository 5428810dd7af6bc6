#include "keys/key_id.h"

#include "crypto/hash.h"

namespace mimi::keys {

std::string KeyId(const crypto::PublicKey& key) {
  auto digest = crypto::Hash(crypto::HashAlgorithm::kSha256, key.encoded());
  // SHA-256 over bytes in memory cannot fail short of a broken OpenSSL; an
  // empty id then makes every comparison fail closed.
  if (!digest.ok()) return std::string();
  return ToHex(ByteSpan(digest->data(), 8));
}

}  // namespace mimi::keys
