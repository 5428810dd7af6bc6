// The secure random source: OpenSSL's DRBG, seeded from the OS. Used for the
// 32-byte nonces of MigrationResponse and anything else that must not be
// guessable.
//
// Thread-safe (OpenSSL keeps one DRBG per thread).
#ifndef MIMI_CRYPTO_RANDOM_H_
#define MIMI_CRYPTO_RANDOM_H_

#include <cstdint>
#include <span>

#include "mimi_portability/messages.h"
#include "mimi_portability/status.h"

namespace mimi::crypto {

// Fills `out`; kInternal if the DRBG cannot produce bytes (not seeded).
Status RandomBytes(std::span<uint8_t> out);
// A fresh 32-byte nonce.
Result<Nonce> RandomNonce();

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_RANDOM_H_
