// Owning wrappers for the OpenSSL objects this module uses, and the one place
// that turns OpenSSL's thread-local error queue into a Status detail.
//
// Only files under coordinator/crypto/ may include this (or OpenSSL at all).
// The wrappers are plain unique_ptrs: one owner, not synchronised; the error
// helpers act on the calling thread's queue only.
#ifndef MIMI_CRYPTO_OPENSSL_UTIL_H_
#define MIMI_CRYPTO_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>
#include <string_view>

#include "crypto/ciphersuite.h"
#include "mimi_portability/status.h"

namespace mimi::crypto::internal {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, Deleter<BN_CTX_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT_clear_free>>;
using ParamBldPtr =
    std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;

// "<what>: <first OpenSSL error>" and clears the queue, so a later failure
// does not report a stale error.
std::string OpenSslError(std::string_view what);
// Discards queued errors (after an expected failure such as a bad signature).
void ClearOpenSslErrors();

// EVP key type name ("ED25519", "EC") and, for ECDSA, the curve's group name
// ("P-256") and NID.
const char* KeyTypeName(SignatureScheme scheme);
const char* CurveName(SignatureScheme scheme);  // nullptr for EdDSA
int CurveNid(SignatureScheme scheme);           // NID_undef for EdDSA
// The digest ECDSA hashes with; nullptr for EdDSA (which hashes internally).
const EVP_MD* SignatureDigest(SignatureScheme scheme);
// Field element size in bytes (32, 48, 66 for the ECDSA curves; 32 and 57
// for the EdDSA key sizes).
size_t FieldBytes(SignatureScheme scheme);

// Which of our schemes an OpenSSL key is, or kUnsupported.
Result<SignatureScheme> SchemeOfKey(const EVP_PKEY* key);

}  // namespace mimi::crypto::internal

#endif  // MIMI_CRYPTO_OPENSSL_UTIL_H_
