#include "crypto/message_signing.h"

#include "crypto/hash.h"

namespace mimi::crypto {

Result<Bytes> MigrationContentHash(CipherSuiteId suite,
                                   const MigrationContent& content) {
  MIMI_ASSIGN_OR_RETURN(CipherSuite cs, LookupCipherSuite(suite));
  MIMI_ASSIGN_OR_RETURN(Bytes serialized, Encode(content));
  return Hash(cs.hash, serialized);
}

}  // namespace mimi::crypto
