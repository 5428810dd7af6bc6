#include "crypto/openssl_util.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <array>

namespace mimi::crypto::internal {

std::string OpenSslError(std::string_view what) {
  unsigned long err = ERR_get_error();
  std::string out(what);
  if (err != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(err, buf.data(), buf.size());
    out += ": ";
    out += buf.data();
  }
  ERR_clear_error();
  return out;
}

void ClearOpenSslErrors() { ERR_clear_error(); }

const char* KeyTypeName(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kEd25519:
      return "ED25519";
    case SignatureScheme::kEd448:
      return "ED448";
    default:
      return "EC";
  }
}

const char* CurveName(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kEcdsaSecp256r1Sha256:
      return "P-256";
    case SignatureScheme::kEcdsaSecp384r1Sha384:
      return "P-384";
    case SignatureScheme::kEcdsaSecp521r1Sha512:
      return "P-521";
    default:
      return nullptr;
  }
}

int CurveNid(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kEcdsaSecp256r1Sha256:
      return NID_X9_62_prime256v1;
    case SignatureScheme::kEcdsaSecp384r1Sha384:
      return NID_secp384r1;
    case SignatureScheme::kEcdsaSecp521r1Sha512:
      return NID_secp521r1;
    default:
      return NID_undef;
  }
}

const EVP_MD* SignatureDigest(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kEcdsaSecp256r1Sha256:
      return EVP_sha256();
    case SignatureScheme::kEcdsaSecp384r1Sha384:
      return EVP_sha384();
    case SignatureScheme::kEcdsaSecp521r1Sha512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

size_t FieldBytes(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kEcdsaSecp256r1Sha256:
      return 32;
    case SignatureScheme::kEcdsaSecp384r1Sha384:
      return 48;
    case SignatureScheme::kEcdsaSecp521r1Sha512:
      return 66;
    case SignatureScheme::kEd25519:
      return 32;
    case SignatureScheme::kEd448:
      return 57;
  }
  return 0;
}

Result<SignatureScheme> SchemeOfKey(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return SignatureScheme::kEd25519;
  if (EVP_PKEY_is_a(key, "ED448")) return SignatureScheme::kEd448;
  if (EVP_PKEY_is_a(key, "EC")) {
    std::array<char, 64> group{};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                       group.data(), group.size(), &len) != 1) {
      return InvalidArgumentError(OpenSslError("EC key without a named curve"));
    }
    std::string_view name(group.data(), len);
    if (name == "prime256v1" || name == "P-256") {
      return SignatureScheme::kEcdsaSecp256r1Sha256;
    }
    if (name == "secp384r1" || name == "P-384") {
      return SignatureScheme::kEcdsaSecp384r1Sha384;
    }
    if (name == "secp521r1" || name == "P-521") {
      return SignatureScheme::kEcdsaSecp521r1Sha512;
    }
    return UnsupportedError("EC curve " + std::string(name) +
                            " is not an MLS signature curve");
  }
  return UnsupportedError("key type is not an MLS signature scheme");
}

}  // namespace mimi::crypto::internal
