// KeyHandle: the OpenSSL key behind a PublicKey or SigningKey, plus the
// conversions between OpenSSL keys and MLS encodings that both need.
//
// Private to coordinator/crypto/. A KeyHandle is never modified after it is
// built, which is what makes sharing it between threads safe.
#ifndef MIMI_CRYPTO_KEY_HANDLE_H_
#define MIMI_CRYPTO_KEY_HANDLE_H_

#include "crypto/openssl_util.h"
#include "crypto/public_key.h"

namespace mimi::crypto::internal {

struct KeyHandle {
  EvpPkeyPtr pkey;
};

// The MLS encoding of the public half of `key` (uncompressed for ECDSA).
Result<Bytes> EncodePublicKey(SignatureScheme scheme, const EVP_PKEY* key);

// A curve point in any SEC1 form -> its uncompressed form, checking that it
// is on the curve and not the point at infinity (kMalformed otherwise).
Result<Bytes> CanonicalEcPoint(SignatureScheme scheme, ByteSpan point);

}  // namespace mimi::crypto::internal

#endif  // MIMI_CRYPTO_KEY_HANDLE_H_
