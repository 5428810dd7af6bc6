// Signing and verifying the protocol's signed structs, and the content hash.
//
// SignMessage fills `signature` with SignWithLabel(key, SignatureLabel<T>(),
// ToBeSigned(*msg)); VerifyMessage checks it. Every signed struct of
// mimi_portability/messages.h goes through these two, so the label and the
// TBS bytes cannot drift between signer and verifier.
// MigrationContentHash is migration_content_hash of TargetMigrationComplete:
// the suite's hash over the whole serialized MigrationContent (docs/protocol.md §2.2).
//
// Pure functions; thread-safe.
#ifndef MIMI_CRYPTO_MESSAGE_SIGNING_H_
#define MIMI_CRYPTO_MESSAGE_SIGNING_H_

#include "crypto/ciphersuite.h"
#include "crypto/labeled_signature.h"
#include "crypto/public_key.h"
#include "crypto/signing_key.h"
#include "mimi_portability/messages.h"
#include "mimi_portability/status.h"

namespace mimi::crypto {

template <typename T>
Status SignMessage(const SigningKey& key, T* msg) {
  MIMI_ASSIGN_OR_RETURN(Bytes tbs, ToBeSigned(*msg));
  MIMI_ASSIGN_OR_RETURN(msg->signature,
                        SignWithLabel(key, SignatureLabel<T>(), tbs));
  return Status::Ok();
}

// OK, or kBadSignature (with the struct's name in the detail).
template <typename T>
Status VerifyMessage(const PublicKey& key, const T& msg) {
  MIMI_ASSIGN_OR_RETURN(Bytes tbs, ToBeSigned(msg));
  Status s = VerifyWithLabel(key, SignatureLabel<T>(), tbs, msg.signature);
  if (!s.ok()) {
    return Status(s.code(),
                  std::string(MessageName<T>()) + ".signature: " + s.detail());
  }
  return s;
}

// Hash(Encode(content)) with the hash of `suite` (kUnsupported for a suite
// outside 1..7).
Result<Bytes> MigrationContentHash(CipherSuiteId suite,
                                   const MigrationContent& content);

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_MESSAGE_SIGNING_H_
