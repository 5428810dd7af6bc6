// HMAC (RFC 2104) over the suites' hash functions, and a constant-time
// comparison for checking MACs. The HTTP hook adapter (coordinator/ds_http/)
// authenticates its requests to an operator's Delivery Service with
// HMAC-SHA256 over a shared secret; this is where that MAC is computed, since
// OpenSSL stays inside this module.
//
// Pure functions; thread-safe.
#ifndef MIMI_CRYPTO_HMAC_H_
#define MIMI_CRYPTO_HMAC_H_

#include "crypto/ciphersuite.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::crypto {

// HMAC(key, data) with `hash`; the output is HashLength(hash) bytes. Any key
// length is allowed (RFC 2104 hashes long keys first). kInternal only if
// OpenSSL itself fails.
Result<Bytes> Hmac(HashAlgorithm hash, ByteSpan key, ByteSpan data);

// True iff a and b are equal. Time depends on the lengths only, never on
// where the first difference is, so a MAC check leaks nothing usable.
bool ConstantTimeEquals(ByteSpan a, ByteSpan b);

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_HMAC_H_
