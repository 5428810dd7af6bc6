// SigningKey: a private signature key of one of the five MLS signature
// schemes, with its PublicKey.
//
// Keys are generated here, or read from PKCS#8 PEM (the DS key store's file
// format, which the openssl tool reads too) or from raw private bytes (RFC
// 8032 seeds for EdDSA, the fixed-width big-endian scalar for ECDSA).
// Exported private material comes back as SecretBytes, wiped when dropped;
// OpenSSL wipes its own copies when a key is freed.
//
// Immutable after construction; copies share the OpenSSL key, and any number
// of threads may Sign() with the same key at once.
#ifndef MIMI_CRYPTO_SIGNING_KEY_H_
#define MIMI_CRYPTO_SIGNING_KEY_H_

#include <memory>
#include <string_view>

#include "crypto/ciphersuite.h"
#include "crypto/public_key.h"
#include "crypto/secret_bytes.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::crypto {

class SigningKey {
 public:
  static Result<SigningKey> Generate(SignatureScheme scheme);
  // EdDSA: the 32/57-byte RFC 8032 secret. ECDSA: the scalar, exactly as wide
  // as the field (32/48/66 bytes), in 1..n-1. Wrong size or range is
  // kInvalidArgument.
  static Result<SigningKey> FromRawPrivateKey(SignatureScheme scheme,
                                              ByteSpan secret);
  // An unencrypted PKCS#8 PEM private key. The key must be of `expected`
  // scheme (kInvalidArgument otherwise); bad PEM is kMalformed; a key type
  // MLS does not sign with is kUnsupported.
  static Result<SigningKey> FromPkcs8Pem(SignatureScheme expected,
                                         std::string_view pem);

  SignatureScheme scheme() const { return public_key_.scheme(); }
  const PublicKey& public_key() const { return public_key_; }

  // Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
  Result<SecretBytes> ToPkcs8Pem() const;

  // A signature of `message` as MLS encodes it: EdDSA R||S, ECDSA DER over
  // the scheme's hash of `message`.
  Result<Bytes> Sign(ByteSpan message) const;

 private:
  SigningKey(std::shared_ptr<const internal::KeyHandle> handle,
             PublicKey public_key)
      : handle_(std::move(handle)), public_key_(std::move(public_key)) {}
  static Result<SigningKey> FromHandle(SignatureScheme scheme,
                                       std::shared_ptr<internal::KeyHandle> h);

  std::shared_ptr<const internal::KeyHandle> handle_;
  PublicKey public_key_;
};

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_SIGNING_KEY_H_
