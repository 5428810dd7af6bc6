#include "crypto/hmac.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "crypto/openssl_util.h"

namespace mimi::crypto {
namespace {

const EVP_MD* Md(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return EVP_sha256();
    case HashAlgorithm::kSha384:
      return EVP_sha384();
    case HashAlgorithm::kSha512:
      return EVP_sha512();
  }
  return nullptr;
}

}  // namespace

Result<Bytes> Hmac(HashAlgorithm hash, ByteSpan key, ByteSpan data) {
  const EVP_MD* md = Md(hash);
  if (md == nullptr) return InternalError("unknown hash algorithm");
  // HMAC() treats a NULL key as "reuse the previous one"; an empty key must
  // be a valid pointer with length 0.
  static const uint8_t kEmpty = 0;
  Bytes out(HashLength(hash));
  unsigned int len = 0;
  if (HMAC(md, key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
           data.empty() ? &kEmpty : data.data(), data.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    return InternalError(internal::OpenSslError(std::string("HMAC ") +
                                                std::string(HashName(hash))));
  }
  return out;
}

bool ConstantTimeEquals(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mimi::crypto
