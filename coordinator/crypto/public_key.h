// PublicKey: a signature verification key of one of the five MLS signature
// schemes, in the encoding MLS uses for signature keys (RFC 9420 §5.1.1):
// raw RFC 8032 bytes for Ed25519/Ed448, an uncompressed SEC1 point for ECDSA.
//
// Parse() also accepts compressed SEC1 points because ts-mls 1.6.4 writes
// them into leaf nodes (docs/protocol.md §2.2); encoded() is always the uncompressed
// form, so two keys compare equal whatever form they were read from. A point
// not on the curve, or bytes of the wrong length for the scheme, are
// kMalformed. Verify() reports a signature that does not verify (including
// one of the wrong length or in bad DER) as kBadSignature, never as an error
// about the key.
//
// Immutable after construction; copies share the underlying OpenSSL key, and
// any number of threads may Verify() with the same key at once.
#ifndef MIMI_CRYPTO_PUBLIC_KEY_H_
#define MIMI_CRYPTO_PUBLIC_KEY_H_

#include <memory>
#include <string>
#include <string_view>

#include "crypto/ciphersuite.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::crypto {

namespace internal {
struct KeyHandle;  // owns the OpenSSL key; defined in key_handle.h
}  // namespace internal

class PublicKey {
 public:
  // From the MLS encoding of `scheme` (see the file comment).
  static Result<PublicKey> Parse(SignatureScheme scheme, ByteSpan encoded);
  // From a PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"), as the
  // openssl tool writes it; the scheme follows from the key type and curve.
  static Result<PublicKey> FromSpkiPem(std::string_view pem);

  SignatureScheme scheme() const { return scheme_; }
  // Canonical MLS encoding (uncompressed for ECDSA).
  const Bytes& encoded() const { return encoded_; }
  Result<std::string> ToSpkiPem() const;

  // OK if `signature` is a valid signature of `message` under this key
  // (ECDSA: DER, hashing with the scheme's hash; EdDSA: pure, R||S);
  // kBadSignature otherwise.
  Status Verify(ByteSpan message, ByteSpan signature) const;

  bool operator==(const PublicKey& other) const {
    return scheme_ == other.scheme_ && encoded_ == other.encoded_;
  }

 private:
  PublicKey(SignatureScheme scheme, Bytes encoded,
            std::shared_ptr<const internal::KeyHandle> handle)
      : scheme_(scheme),
        encoded_(std::move(encoded)),
        handle_(std::move(handle)) {}

  SignatureScheme scheme_;
  Bytes encoded_;
  std::shared_ptr<const internal::KeyHandle> handle_;
};

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_PUBLIC_KEY_H_
