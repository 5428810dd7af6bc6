// The hash functions of the MLS ciphersuites (SHA-256/384/512), as used for
// migration_content_hash (docs/protocol.md §2.2) and key ids.
//
// Pure functions; thread-safe.
#ifndef MIMI_CRYPTO_HASH_H_
#define MIMI_CRYPTO_HASH_H_

#include "crypto/ciphersuite.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::crypto {

// The digest of `data`; kInternal only if OpenSSL itself fails.
Result<Bytes> Hash(HashAlgorithm hash, ByteSpan data);

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_HASH_H_
