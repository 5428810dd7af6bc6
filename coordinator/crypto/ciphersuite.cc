#include "crypto/ciphersuite.h"

#include <array>
#include <string>

namespace mimi::crypto {
namespace {

using enum SignatureScheme;
using enum HashAlgorithm;

constexpr std::array<CipherSuite, 7> kSuites = {{
    {1, "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", kEd25519, kSha256},
    {2, "MLS_128_DHKEMP256_AES128GCM_SHA256_P256", kEcdsaSecp256r1Sha256,
     kSha256},
    {3, "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519", kEd25519,
     kSha256},
    {4, "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448", kEd448, kSha512},
    {5, "MLS_256_DHKEMP521_AES256GCM_SHA512_P521", kEcdsaSecp521r1Sha512,
     kSha512},
    {6, "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448", kEd448, kSha512},
    {7, "MLS_256_DHKEMP384_AES256GCM_SHA384_P384", kEcdsaSecp384r1Sha384,
     kSha384},
}};

constexpr std::array<SignatureScheme, 5> kSchemes = {
    kEd25519, kEd448, kEcdsaSecp256r1Sha256, kEcdsaSecp384r1Sha384,
    kEcdsaSecp521r1Sha512};

}  // namespace

Result<CipherSuite> LookupCipherSuite(CipherSuiteId id) {
  for (const CipherSuite& s : kSuites) {
    if (s.id == id) return s;
  }
  return UnsupportedError("ciphersuite " + std::to_string(id) +
                          " is not supported (only RFC 9420 suites 1-7)");
}

std::span<const CipherSuite> AllCipherSuites() { return kSuites; }
std::span<const SignatureScheme> AllSignatureSchemes() { return kSchemes; }

std::string_view SchemeName(SignatureScheme scheme) {
  switch (scheme) {
    case kEcdsaSecp256r1Sha256:
      return "ecdsa_secp256r1_sha256";
    case kEcdsaSecp384r1Sha384:
      return "ecdsa_secp384r1_sha384";
    case kEcdsaSecp521r1Sha512:
      return "ecdsa_secp521r1_sha512";
    case kEd25519:
      return "ed25519";
    case kEd448:
      return "ed448";
  }
  return "unknown";
}

Result<SignatureScheme> SchemeFromName(std::string_view name) {
  for (SignatureScheme s : kSchemes) {
    if (SchemeName(s) == name) return s;
  }
  return UnsupportedError("signature scheme \"" + std::string(name) +
                          "\" is not supported");
}

bool IsEdDsa(SignatureScheme scheme) {
  return scheme == kEd25519 || scheme == kEd448;
}

std::string_view HashName(HashAlgorithm hash) {
  switch (hash) {
    case kSha256:
      return "SHA-256";
    case kSha384:
      return "SHA-384";
    case kSha512:
      return "SHA-512";
  }
  return "unknown";
}

size_t HashLength(HashAlgorithm hash) {
  switch (hash) {
    case kSha256:
      return 32;
    case kSha384:
      return 48;
    case kSha512:
      return 64;
  }
  return 0;
}

}  // namespace mimi::crypto
