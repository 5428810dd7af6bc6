// The hash functions of the MLS ciphersuites (SHA-256/384/512), as used for
// migration_content_hash (docs/protocol.md §2.2) and key ids.
//
// Hash is a pure function (thread-safe). IncrementalHash hashes bytes as
// they arrive (a MigrationContent body read from the network); one object
// is used by one thread at a time.
#ifndef MIMI_CRYPTO_HASH_H_
#define MIMI_CRYPTO_HASH_H_

#include <memory>

#include "crypto/ciphersuite.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::crypto {

// The digest of `data`; kInternal only if OpenSSL itself fails.
Result<Bytes> Hash(HashAlgorithm hash, ByteSpan data);

// Hash(algorithm, a || b || ...) over the pieces given to Update, in order.
class IncrementalHash {
 public:
  static Result<IncrementalHash> Start(HashAlgorithm hash);
  IncrementalHash(IncrementalHash&&) noexcept;
  IncrementalHash& operator=(IncrementalHash&&) noexcept;
  ~IncrementalHash();

  HashAlgorithm algorithm() const { return algorithm_; }
  Status Update(ByteSpan piece);
  // The digest; the object takes no further Update after it.
  Result<Bytes> Finish();

 private:
  struct Ctx;
  IncrementalHash(HashAlgorithm hash, std::unique_ptr<Ctx> ctx);

  HashAlgorithm algorithm_;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_HASH_H_
