// KeyId: a short, stable name for a public key, used in the key document, in
// logs and by operators ("which key signed this?"): the first 8 bytes of
// SHA-256 over the key's canonical MLS encoding, as 16 hex digits.
//
// Pure function; thread-safe.
#ifndef MIMI_KEYS_KEY_ID_H_
#define MIMI_KEYS_KEY_ID_H_

#include <string>

#include "crypto/public_key.h"

namespace mimi::keys {

std::string KeyId(const crypto::PublicKey& key);

}  // namespace mimi::keys

#endif  // MIMI_KEYS_KEY_ID_H_
