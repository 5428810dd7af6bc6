// The crypto module on its own: the suite table, RFC 8032 known answers,
// SignWithLabel for every scheme, the failure codes, key encodings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/hash.h"
#include "crypto/labeled_signature.h"
#include "crypto/public_key.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "testing/read_file.h"
#include "testing/test_bytes.h"

namespace mimi::crypto {
namespace {

using ::mimi::testing::Hex;

TEST(CipherSuiteTest, TableMatchesRfc9420) {
  struct Row {
    CipherSuiteId id;
    SignatureScheme sig;
    HashAlgorithm hash;
  };
  const Row rows[] = {
      {1, SignatureScheme::kEd25519, HashAlgorithm::kSha256},
      {2, SignatureScheme::kEcdsaSecp256r1Sha256, HashAlgorithm::kSha256},
      {3, SignatureScheme::kEd25519, HashAlgorithm::kSha256},
      {4, SignatureScheme::kEd448, HashAlgorithm::kSha512},
      {5, SignatureScheme::kEcdsaSecp521r1Sha512, HashAlgorithm::kSha512},
      {6, SignatureScheme::kEd448, HashAlgorithm::kSha512},
      {7, SignatureScheme::kEcdsaSecp384r1Sha384, HashAlgorithm::kSha384},
  };
  for (const Row& r : rows) {
    auto cs = LookupCipherSuite(r.id);
    ASSERT_TRUE(cs.ok()) << r.id;
    EXPECT_EQ(cs->id, r.id);
    EXPECT_EQ(cs->signature_scheme, r.sig) << r.id;
    EXPECT_EQ(cs->hash, r.hash) << r.id;
  }
  EXPECT_EQ(AllCipherSuites().size(), 7u);
  for (CipherSuiteId bad : {0, 8, 0xfafa, 0xffff}) {
    EXPECT_EQ(LookupCipherSuite(bad).status().code(), StatusCode::kUnsupported);
  }
}

TEST(CipherSuiteTest, SchemeNamesRoundTrip) {
  for (SignatureScheme s : AllSignatureSchemes()) {
    auto back = SchemeFromName(SchemeName(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(SchemeName(SignatureScheme::kEcdsaSecp256r1Sha256),
            "ecdsa_secp256r1_sha256");
  EXPECT_EQ(SchemeFromName("rsa_pss_rsae_sha256").status().code(),
            StatusCode::kUnsupported);
}

TEST(HashTest, KnownAnswersForAbc) {
  Bytes abc = ToBytes("abc");
  EXPECT_EQ(ToHex(Hash(HashAlgorithm::kSha256, abc).value()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Hash(HashAlgorithm::kSha384, abc).value()),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(ToHex(Hash(HashAlgorithm::kSha512, abc).value()),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(RandomTest, NoncesAreFreshAndNotZero) {
  std::set<Nonce> seen;
  for (int i = 0; i < 64; ++i) {
    auto n = RandomNonce();
    ASSERT_TRUE(n.ok());
    EXPECT_NE(*n, Nonce{});
    seen.insert(*n);
  }
  EXPECT_EQ(seen.size(), 64u);
}

TEST(Rfc8032Test, KnownAnswers) {
  const std::string text = mimi::testing::ReadTextFile(
      std::string(MIMI_TEST_DATA_DIR "/crypto/rfc8032.json"));
  ASSERT_FALSE(text.empty()) << "missing tests/data/crypto/rfc8032.json";
  auto doc = mimi::codec::ParseJson(text);
  int count = 0;
  for (const auto& v : doc.at("vectors")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    SignatureScheme scheme =
        SchemeFromName(v.at("scheme").get<std::string>()).value();
    auto key = SigningKey::FromRawPrivateKey(
        scheme, Hex(v.at("secret").get<std::string>()));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(ToHex(key->public_key().encoded()),
              v.at("public").get<std::string>());
    Bytes message = Hex(v.at("message").get<std::string>());
    auto sig = key->Sign(message);
    ASSERT_TRUE(sig.ok());
    // EdDSA is deterministic: the exact bytes of the RFC.
    EXPECT_EQ(ToHex(*sig), v.at("signature").get<std::string>());
    auto pub = PublicKey::Parse(scheme, Hex(v.at("public").get<std::string>()));
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE(pub->Verify(message, *sig).ok());
    Bytes flipped = *sig;
    flipped[5] ^= 0x01;
    EXPECT_EQ(pub->Verify(message, flipped).code(), StatusCode::kBadSignature);
    ++count;
  }
  EXPECT_EQ(count, 5);
}

TEST(SignContentTest, IsRfc9420StructWithOurPrefix) {
  // varint(22) "MIMI Portability 1.0 X" varint(2) "ab"
  Bytes expected = {0x16};
  for (char c : std::string_view("MIMI Portability 1.0 X"))
    expected.push_back(c);
  expected.insert(expected.end(), {0x02, 'a', 'b'});
  EXPECT_EQ(SignContent("X", ToBytes("ab")).value(), expected);
}

class SchemeTest : public ::testing::TestWithParam<SignatureScheme> {};

TEST_P(SchemeTest, SignWithLabelVerifiesAndRejectsTampering) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->scheme(), GetParam());
  Bytes content = ToBytes("migration to-be-signed bytes");
  auto sig = SignWithLabel(*key, "MigrationResponse", content);
  ASSERT_TRUE(sig.ok());
  const PublicKey& pub = key->public_key();
  EXPECT_TRUE(VerifyWithLabel(pub, "MigrationResponse", content, *sig).ok());

  // Wrong label.
  EXPECT_EQ(VerifyWithLabel(pub, "MigrationConfirmation", content, *sig).code(),
            StatusCode::kBadSignature);
  // A flipped byte in the signature, at the start, middle and end.
  for (size_t pos : {size_t{0}, sig->size() / 2, sig->size() - 1}) {
    Bytes bad = *sig;
    bad[pos] ^= 0x80;
    EXPECT_EQ(VerifyWithLabel(pub, "MigrationResponse", content, bad).code(),
              StatusCode::kBadSignature)
        << "byte " << pos;
  }
  // A flipped byte in the content.
  Bytes other = content;
  other[3] ^= 1;
  EXPECT_EQ(VerifyWithLabel(pub, "MigrationResponse", other, *sig).code(),
            StatusCode::kBadSignature);
  // Truncated and empty signatures.
  Bytes cut(sig->begin(), sig->end() - 1);
  EXPECT_EQ(VerifyWithLabel(pub, "MigrationResponse", content, cut).code(),
            StatusCode::kBadSignature);
  EXPECT_EQ(VerifyWithLabel(pub, "MigrationResponse", content, {}).code(),
            StatusCode::kBadSignature);
  // A key of every other scheme.
  for (SignatureScheme s : AllSignatureSchemes()) {
    if (s == GetParam()) continue;
    auto wrong = SigningKey::Generate(s);
    ASSERT_TRUE(wrong.ok());
    EXPECT_EQ(
        VerifyWithLabel(wrong->public_key(), "MigrationResponse", content, *sig)
            .code(),
        StatusCode::kBadSignature)
        << SchemeName(s);
  }
  // The bare Sign() is not a labeled signature.
  auto bare = key->Sign(content);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(VerifyWithLabel(pub, "MigrationResponse", content, *bare).code(),
            StatusCode::kBadSignature);
}

TEST_P(SchemeTest, PublicKeyEncodingRoundTrips) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  const Bytes& enc = key->public_key().encoded();
  switch (GetParam()) {
    case SignatureScheme::kEd25519:
      EXPECT_EQ(enc.size(), 32u);
      break;
    case SignatureScheme::kEd448:
      EXPECT_EQ(enc.size(), 57u);
      break;
    case SignatureScheme::kEcdsaSecp256r1Sha256:
      EXPECT_EQ(enc.size(), 65u);
      break;
    case SignatureScheme::kEcdsaSecp384r1Sha384:
      EXPECT_EQ(enc.size(), 97u);
      break;
    case SignatureScheme::kEcdsaSecp521r1Sha512:
      EXPECT_EQ(enc.size(), 133u);
      break;
  }
  auto parsed = PublicKey::Parse(GetParam(), enc);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, key->public_key());
  auto pem = parsed->ToSpkiPem();
  ASSERT_TRUE(pem.ok());
  auto from_pem = PublicKey::FromSpkiPem(*pem);
  ASSERT_TRUE(from_pem.ok());
  EXPECT_EQ(*from_pem, key->public_key());

  // Wrong lengths are malformed keys, not bad signatures.
  Bytes longer = enc;
  longer.push_back(0);
  EXPECT_EQ(PublicKey::Parse(GetParam(), longer).status().code(),
            StatusCode::kMalformed);
  Bytes shorter(enc.begin(), enc.end() - 1);
  EXPECT_EQ(PublicKey::Parse(GetParam(), shorter).status().code(),
            StatusCode::kMalformed);
  EXPECT_EQ(PublicKey::Parse(GetParam(), {}).status().code(),
            StatusCode::kMalformed);
}

TEST_P(SchemeTest, Pkcs8PemRoundTrips) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  auto pem = key->ToPkcs8Pem();
  ASSERT_TRUE(pem.ok());
  EXPECT_NE(pem->view().find("BEGIN PRIVATE KEY"), std::string_view::npos);
  auto back = SigningKey::FromPkcs8Pem(GetParam(), pem->view());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->public_key(), key->public_key());
  auto sig = back->Sign(ToBytes("x"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->public_key().Verify(ToBytes("x"), *sig).ok());
  // Read as another scheme: refused, not silently accepted.
  SignatureScheme other = GetParam() == SignatureScheme::kEd25519
                              ? SignatureScheme::kEd448
                              : SignatureScheme::kEd25519;
  EXPECT_EQ(SigningKey::FromPkcs8Pem(other, pem->view()).status().code(),
            StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, SchemeTest,
                         ::testing::ValuesIn(AllSignatureSchemes()),
                         [](const auto& p) {
                           return std::string(SchemeName(p.param));
                         });

TEST(PublicKeyTest, AcceptsCompressedPointsAndEmitsUncompressed) {
  for (SignatureScheme s : {SignatureScheme::kEcdsaSecp256r1Sha256,
                            SignatureScheme::kEcdsaSecp384r1Sha384,
                            SignatureScheme::kEcdsaSecp521r1Sha512}) {
    SCOPED_TRACE(SchemeName(s));
    auto key = SigningKey::Generate(s);
    ASSERT_TRUE(key.ok());
    const Bytes& full = key->public_key().encoded();
    const size_t n = (full.size() - 1) / 2;
    Bytes compressed = {static_cast<uint8_t>(0x02 | (full.back() & 1))};
    compressed.insert(compressed.end(), full.begin() + 1, full.begin() + 1 + n);
    auto parsed = PublicKey::Parse(s, compressed);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->encoded(), full);
    auto sig = SignWithLabel(*key, "L", ToBytes("c"));
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(VerifyWithLabel(*parsed, "L", ToBytes("c"), *sig).ok());
    // The other parity is the other point (y -> p - y): a valid key that
    // does not verify.
    compressed[0] ^= 1;
    auto negated = PublicKey::Parse(s, compressed);
    ASSERT_TRUE(negated.ok());
    EXPECT_NE(negated->encoded(), full);
    EXPECT_EQ(VerifyWithLabel(*negated, "L", ToBytes("c"), *sig).code(),
              StatusCode::kBadSignature);
  }
}

TEST(PublicKeyTest, RejectsPointsOffTheCurveAndBadPrefixes) {
  auto key = SigningKey::Generate(SignatureScheme::kEcdsaSecp256r1Sha256);
  ASSERT_TRUE(key.ok());
  Bytes off = key->public_key().encoded();
  off.back() ^= 0x01;  // y no longer matches x
  EXPECT_EQ(PublicKey::Parse(SignatureScheme::kEcdsaSecp256r1Sha256, off)
                .status()
                .code(),
            StatusCode::kMalformed);
  Bytes hybrid = key->public_key().encoded();
  hybrid[0] = 0x06;  // X9.62 hybrid form: not allowed by MLS
  EXPECT_EQ(PublicKey::Parse(SignatureScheme::kEcdsaSecp256r1Sha256, hybrid)
                .status()
                .code(),
            StatusCode::kMalformed);
  Bytes infinity = {0x00};
  EXPECT_EQ(PublicKey::Parse(SignatureScheme::kEcdsaSecp256r1Sha256, infinity)
                .status()
                .code(),
            StatusCode::kMalformed);
  // An Ed25519 key handed over as a P-256 key.
  auto ed = SigningKey::Generate(SignatureScheme::kEd25519);
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(PublicKey::Parse(SignatureScheme::kEcdsaSecp256r1Sha256,
                             ed->public_key().encoded())
                .status()
                .code(),
            StatusCode::kMalformed);
  EXPECT_EQ(PublicKey::FromSpkiPem("not pem").status().code(),
            StatusCode::kMalformed);
}

TEST(SigningKeyTest, EcdsaScalarOneGivesTheGenerator) {
  Bytes one(32, 0);
  one.back() = 1;
  auto key = SigningKey::FromRawPrivateKey(
      SignatureScheme::kEcdsaSecp256r1Sha256, one);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  // SEC 2 §2.4.2: the base point G of secp256r1.
  EXPECT_EQ(ToHex(key->public_key().encoded()),
            "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
  Bytes zero(32, 0);
  EXPECT_EQ(SigningKey::FromRawPrivateKey(
                SignatureScheme::kEcdsaSecp256r1Sha256, zero)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  Bytes too_big(32, 0xff);  // above the group order
  EXPECT_EQ(SigningKey::FromRawPrivateKey(
                SignatureScheme::kEcdsaSecp256r1Sha256, too_big)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SigningKey::FromRawPrivateKey(SignatureScheme::kEd25519, Bytes(31))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SigningKey::FromPkcs8Pem(SignatureScheme::kEd25519, "garbage")
                .status()
                .code(),
            StatusCode::kMalformed);
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes a(std::string_view("secret"));
  SecretBytes b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking it
  EXPECT_EQ(b.view(), "secret");
}

// RFC 9420's own SignWithLabel ("MLS 1.0 " prefix), which a DS uses to check
// GroupInfo and PublicMessage signatures: the official interop vectors
// (tests/data/mls-vectors/crypto-basics.json), every suite. EdDSA is
// deterministic, so signing must reproduce the vector's bytes; ECDSA is not,
// so our signature must verify instead.
TEST(MlsLabeledSignatureTest, OfficialVectorsEverySuite) {
  const std::string text = mimi::testing::ReadTextFile(
      std::string(MIMI_TEST_DATA_DIR "/mls-vectors/crypto-basics.json"));
  ASSERT_FALSE(text.empty())
      << "missing tests/data/mls-vectors/crypto-basics.json";
  const nlohmann::json doc = mimi::codec::ParseJson(text);
  std::set<CipherSuiteId> covered;
  for (const auto& v : doc["vectors"]) {
    const CipherSuiteId id = v["cipher_suite"].get<CipherSuiteId>();
    SCOPED_TRACE("suite " + std::to_string(id));
    const auto& swl = v["sign_with_label"];
    const SignatureScheme scheme = LookupCipherSuite(id).value().signature_scheme;
    const Bytes content = Hex(swl["content"].get<std::string>());
    const std::string label = swl["label"].get<std::string>();
    const Bytes signature = Hex(swl["signature"].get<std::string>());
    auto pub = PublicKey::Parse(scheme, Hex(swl["pub"].get<std::string>()));
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    EXPECT_TRUE(VerifyWithMlsLabel(*pub, label, content, signature).ok());
    // The project's own prefix must not accept an MLS signature.
    EXPECT_EQ(VerifyWithLabel(*pub, label, content, signature).code(),
              StatusCode::kBadSignature);
    auto key = SigningKey::FromRawPrivateKey(scheme, Hex(swl["priv"].get<std::string>()));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(key->public_key(), *pub);
    auto ours = SignWithMlsLabel(*key, label, content);
    ASSERT_TRUE(ours.ok());
    if (IsEdDsa(scheme)) {
      EXPECT_EQ(ToHex(*ours), ToHex(signature));
    }
    EXPECT_TRUE(VerifyWithMlsLabel(*pub, label, content, *ours).ok());
    covered.insert(id);
  }
  EXPECT_EQ(covered.size(), AllCipherSuites().size());
}

}  // namespace
}  // namespace mimi::crypto
