// The MLS ciphersuite table (RFC 9420 §17.1, ids 1 to 7) reduced to what
// MIMI Portability needs from a suite: its signature scheme and its hash
// (docs/protocol.md §2.1). The KEM and AEAD columns are never used by a Delivery
// Service's portability code, so they are not modelled.
//
// Pure functions over constant tables; thread-safe.
#ifndef MIMI_CRYPTO_CIPHERSUITE_H_
#define MIMI_CRYPTO_CIPHERSUITE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "mimi_portability/status.h"

namespace mimi::crypto {

using CipherSuiteId = uint16_t;

// Values are the TLS SignatureScheme code points RFC 9420 names.
enum class SignatureScheme : uint16_t {
  kEcdsaSecp256r1Sha256 = 0x0403,
  kEcdsaSecp384r1Sha384 = 0x0503,
  kEcdsaSecp521r1Sha512 = 0x0603,
  kEd25519 = 0x0807,
  kEd448 = 0x0808,
};

enum class HashAlgorithm { kSha256, kSha384, kSha512 };

struct CipherSuite {
  CipherSuiteId id;
  std::string_view name;  // e.g. "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"
  SignatureScheme signature_scheme;
  HashAlgorithm hash;
};

// The suite with this id, or kUnsupported for anything outside 1..7.
Result<CipherSuite> LookupCipherSuite(CipherSuiteId id);
// All supported suites in id order.
std::span<const CipherSuite> AllCipherSuites();

// All supported signature schemes.
std::span<const SignatureScheme> AllSignatureSchemes();
// The TLS name of the scheme, e.g. "ed25519", "ecdsa_secp256r1_sha256".
std::string_view SchemeName(SignatureScheme scheme);
// The inverse of SchemeName; an unknown name is kUnsupported.
Result<SignatureScheme> SchemeFromName(std::string_view name);
bool IsEdDsa(SignatureScheme scheme);

std::string_view HashName(HashAlgorithm hash);  // "SHA-256", ...
size_t HashLength(HashAlgorithm hash);

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_CIPHERSUITE_H_
