// SignMessage / VerifyMessage for every signed struct, the content hash, and
// a MigrationInit signed by a real ts-mls member with its leaf key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "codec/json_text.h"
#include "crypto/hash.h"
#include "crypto/message_signing.h"
#include "testing/read_file.h"
#include "testing/test_bytes.h"

namespace mimi::crypto {
namespace {

using ::mimi::testing::Hex;

MigrationResponse SampleResponse() {
  MigrationResponse r;
  r.migration_request.source_domain_name = ToBytes("source.example");
  r.migration_request.target_domain_name = ToBytes("target.example");
  r.migration_request.group_id = ToBytes("group-1");
  r.migration_request.epoch = 42;
  r.nonce.fill(0x5a);
  r.signature = Bytes(64, 0x11);
  return r;
}

template <typename T>
T Sample();
template <>
MigrationResponse Sample() {
  return SampleResponse();
}
template <>
MigrationInit Sample() {
  return MigrationInit{SampleResponse(), {}};
}
template <>
MigrationContent Sample() {
  return MigrationContent{SampleResponse(), ToBytes("group state"), {}};
}
template <>
TargetMigrationComplete Sample() {
  return TargetMigrationComplete{Bytes(32, 0x22), {}};
}
template <>
MigrationConfirmation Sample() {
  MigrationConfirmation c;
  c.domain_name = ToBytes("target.example");
  c.nonce.fill(7);
  c.group_id = ToBytes("group-1");
  return c;
}
template <>
MigrationAbort Sample() {
  MigrationAbort a;
  a.nonce.fill(9);
  return a;
}
template <>
MigrationAbortAck Sample() {
  MigrationAbortAck a;
  a.nonce.fill(9);
  return a;
}

// Changes one signed field of the message.
void Tamper(MigrationResponse* m) { m->migration_request.epoch++; }
void Tamper(MigrationInit* m) { m->migration_response.nonce[0] ^= 1; }
void Tamper(MigrationContent* m) { m->group_state.push_back(0); }
void Tamper(TargetMigrationComplete* m) { m->migration_content_hash[0] ^= 1; }
void Tamper(MigrationConfirmation* m) { m->group_id.push_back('x'); }
void Tamper(MigrationAbort* m) { m->nonce[31] ^= 1; }
void Tamper(MigrationAbortAck* m) { m->nonce[31] ^= 1; }

template <typename T>
class MessageSigningTest : public ::testing::Test {};
using SignedTypes =
    ::testing::Types<MigrationResponse, MigrationInit, MigrationContent,
                     TargetMigrationComplete, MigrationConfirmation,
                     MigrationAbort, MigrationAbortAck>;
TYPED_TEST_SUITE(MessageSigningTest, SignedTypes);

TYPED_TEST(MessageSigningTest, SignsVerifiesAndDetectsTampering) {
  for (SignatureScheme scheme :
       {SignatureScheme::kEd25519, SignatureScheme::kEcdsaSecp256r1Sha256}) {
    auto key = SigningKey::Generate(scheme);
    ASSERT_TRUE(key.ok());
    TypeParam msg = Sample<TypeParam>();
    ASSERT_TRUE(SignMessage(*key, &msg).ok());
    EXPECT_FALSE(msg.signature.empty());
    EXPECT_TRUE(VerifyMessage(key->public_key(), msg).ok());

    // The signature is SignWithLabel over ToBeSigned with the struct's name.
    Bytes tbs = ToBeSigned(msg).value();
    EXPECT_TRUE(VerifyWithLabel(key->public_key(), MessageName<TypeParam>(),
                                tbs, msg.signature)
                    .ok());

    // It survives the wire.
    auto decoded = Decode<TypeParam>(Encode(msg).value());
    ASSERT_TRUE(decoded.ok());
    EXPECT_TRUE(VerifyMessage(key->public_key(), *decoded).ok());

    TypeParam changed = msg;
    Tamper(&changed);
    Status s = VerifyMessage(key->public_key(), changed);
    EXPECT_EQ(s.code(), StatusCode::kBadSignature);
    EXPECT_NE(s.detail().find(std::string(MessageName<TypeParam>())),
              std::string::npos)
        << s.detail();
  }
}

TEST(MessageSigningTest, AbortAndAckSignaturesAreNotInterchangeable) {
  auto key = SigningKey::Generate(SignatureScheme::kEd25519);
  ASSERT_TRUE(key.ok());
  MigrationAbort abort = Sample<MigrationAbort>();
  ASSERT_TRUE(SignMessage(*key, &abort).ok());
  MigrationAbortAck ack{abort.nonce, abort.signature};
  EXPECT_EQ(VerifyMessage(key->public_key(), ack).code(),
            StatusCode::kBadSignature);
}

TEST(MigrationContentHashTest, HashesTheWholeSerializationWithTheSuiteHash) {
  MigrationContent content = Sample<MigrationContent>();
  content.signature = Bytes(70, 0x33);
  Bytes wire = Encode(content).value();
  struct Case {
    CipherSuiteId suite;
    HashAlgorithm hash;
  };
  for (Case c :
       {Case{1, HashAlgorithm::kSha256}, Case{2, HashAlgorithm::kSha256},
        Case{5, HashAlgorithm::kSha512}, Case{7, HashAlgorithm::kSha384}}) {
    auto h = MigrationContentHash(c.suite, content);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, Hash(c.hash, wire).value()) << c.suite;
    EXPECT_EQ(h->size(), HashLength(c.hash));
  }
  // The signature is part of what is hashed.
  MigrationContent other = content;
  other.signature[0] ^= 1;
  EXPECT_NE(MigrationContentHash(1, other).value(),
            MigrationContentHash(1, content).value());
  EXPECT_EQ(MigrationContentHash(8, content).status().code(),
            StatusCode::kUnsupported);
}

// tests/data/mls/init_signature_suite{1,2}.json come from ts-mls 1.6.4
// (tests/mls/make_fixtures.mjs): a group member signed the MigrationInit TBS
// with its leaf signature key. Suite 2's key is a compressed SEC1 point, as
// ts-mls writes it.
class TsMlsInitSignatureTest : public ::testing::TestWithParam<int> {};

TEST_P(TsMlsInitSignatureTest, VerifiesUnderTheMembersLeafKey) {
  std::string path =
      std::string(MIMI_TEST_DATA_DIR "/mls/init_signature_suite") +
      std::to_string(GetParam()) + ".json";
  const std::string text = mimi::testing::ReadTextFile(path);
  ASSERT_FALSE(text.empty()) << "missing fixture " << path;
  auto j = mimi::codec::ParseJson(text);
  ASSERT_EQ(j.at("ciphersuite").get<int>(), GetParam());
  ASSERT_EQ(j.at("label").get<std::string>(), "MigrationInit");
  CipherSuite suite = LookupCipherSuite(GetParam()).value();
  Bytes leaf_key = Hex(j.at("signature_public_key").get<std::string>());
  auto key = PublicKey::Parse(suite.signature_scheme, leaf_key);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  if (GetParam() == 2) {
    EXPECT_EQ(leaf_key.size(), 33u) << "ts-mls writes compressed points";
    EXPECT_EQ(key->encoded().size(), 65u);
  }

  Bytes tbs = Hex(j.at("tbs").get<std::string>());
  Bytes sig = Hex(j.at("signature").get<std::string>());
  EXPECT_TRUE(VerifyWithLabel(*key, "MigrationInit", tbs, sig).ok());

  // The TBS is exactly ToBeSigned(MigrationInit): a whole MigrationResponse.
  auto response = Decode<MigrationResponse>(tbs);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  MigrationInit init{*response, sig};
  EXPECT_EQ(ToBeSigned(init).value(), tbs);
  EXPECT_TRUE(VerifyMessage(*key, init).ok());

  // Nothing else verifies: another label, another key, a changed epoch.
  EXPECT_EQ(VerifyWithLabel(*key, "MigrationResponse", tbs, sig).code(),
            StatusCode::kBadSignature);
  auto target = PublicKey::Parse(
      suite.signature_scheme,
      Hex(j.at("target_signature_public_key").get<std::string>()));
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(VerifyMessage(*target, init).code(), StatusCode::kBadSignature);
  MigrationInit changed = init;
  changed.migration_response.migration_request.epoch++;
  EXPECT_EQ(VerifyMessage(*key, changed).code(), StatusCode::kBadSignature);
}

INSTANTIATE_TEST_SUITE_P(Suites, TsMlsInitSignatureTest,
                         ::testing::Values(1, 2));

}  // namespace
}  // namespace mimi::crypto
