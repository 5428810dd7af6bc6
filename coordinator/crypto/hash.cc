#include "crypto/hash.h"

#include <openssl/evp.h>

#include "crypto/openssl_util.h"

namespace mimi::crypto {

Result<Bytes> Hash(HashAlgorithm hash, ByteSpan data) {
  const EVP_MD* md = nullptr;
  switch (hash) {
    case HashAlgorithm::kSha256:
      md = EVP_sha256();
      break;
    case HashAlgorithm::kSha384:
      md = EVP_sha384();
      break;
    case HashAlgorithm::kSha512:
      md = EVP_sha512();
      break;
  }
  if (md == nullptr) return InternalError("unknown hash algorithm");
  Bytes out(HashLength(hash));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) !=
          1 ||
      len != out.size()) {
    return InternalError(internal::OpenSslError(std::string("EVP_Digest ") +
                                                std::string(HashName(hash))));
  }
  return out;
}

}  // namespace mimi::crypto
