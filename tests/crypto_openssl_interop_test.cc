// Our signatures against the openssl command-line tool, both ways, for every
// MLS signature scheme: the tool verifies what we sign, we verify what the
// tool signs (with a key the tool generated), over a real SignContent.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "crypto/ciphersuite.h"
#include "crypto/labeled_signature.h"
#include "crypto/public_key.h"
#include "crypto/signing_key.h"
#include "testing/command.h"
#include "testing/read_file.h"
#include "testing/temp_dir.h"

namespace mimi::crypto {
namespace {

using ::mimi::testing::RunCommand;
using ::mimi::testing::ShellQuote;
using ::mimi::testing::TempDir;

void WriteFile(const std::filesystem::path& p, std::string_view data) {
  std::ofstream f(p, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(f.good()) << p;
}

using ::mimi::testing::ReadTextFile;

std::string Q(const std::filesystem::path& p) { return ShellQuote(p.string()); }

// The openssl digest option for ECDSA, empty for EdDSA.
std::string DigestFlag(SignatureScheme s) {
  switch (s) {
    case SignatureScheme::kEcdsaSecp256r1Sha256:
      return "-sha256";
    case SignatureScheme::kEcdsaSecp384r1Sha384:
      return "-sha384";
    case SignatureScheme::kEcdsaSecp521r1Sha512:
      return "-sha512";
    default:
      return "";
  }
}

std::string GenpkeyArgs(SignatureScheme s) {
  switch (s) {
    case SignatureScheme::kEd25519:
      return "-algorithm ED25519";
    case SignatureScheme::kEd448:
      return "-algorithm ED448";
    case SignatureScheme::kEcdsaSecp256r1Sha256:
      return "-algorithm EC -pkeyopt ec_paramgen_curve:P-256";
    case SignatureScheme::kEcdsaSecp384r1Sha384:
      return "-algorithm EC -pkeyopt ec_paramgen_curve:P-384";
    case SignatureScheme::kEcdsaSecp521r1Sha512:
      return "-algorithm EC -pkeyopt ec_paramgen_curve:P-521";
  }
  return "";
}

int ToolVerify(SignatureScheme s, const std::filesystem::path& pub,
               const std::filesystem::path& msg,
               const std::filesystem::path& sig) {
  std::string cmd = IsEdDsa(s)
                        ? "openssl pkeyutl -verify -pubin -inkey " + Q(pub) +
                              " -rawin -in " + Q(msg) + " -sigfile " + Q(sig)
                        : "openssl dgst " + DigestFlag(s) + " -verify " +
                              Q(pub) + " -signature " + Q(sig) + " " + Q(msg);
  return RunCommand(cmd + " >/dev/null 2>&1").exit_code;
}

class OpenSslInteropTest : public ::testing::TestWithParam<SignatureScheme> {
 protected:
  TempDir dir_;
  const Bytes content_ = ToBytes("to-be-signed bytes of some message");
  const std::string label_ = "MigrationContent";
};

TEST_P(OpenSslInteropTest, ToolVerifiesOurSignature) {
  auto key = SigningKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  auto sig = SignWithLabel(*key, label_, content_);
  ASSERT_TRUE(sig.ok());
  auto pem = key->public_key().ToSpkiPem();
  ASSERT_TRUE(pem.ok());
  WriteFile(dir_ / "pub.pem", *pem);
  WriteFile(dir_ / "msg", ToString(SignContent(label_, content_).value()));
  WriteFile(dir_ / "sig", ToString(*sig));
  EXPECT_EQ(
      ToolVerify(GetParam(), dir_ / "pub.pem", dir_ / "msg", dir_ / "sig"), 0);
  // The tool must also reject a tampered signature, or the check above
  // proves nothing.
  Bytes bad = *sig;
  bad[bad.size() / 2] ^= 0x04;
  WriteFile(dir_ / "bad", ToString(bad));
  EXPECT_NE(
      ToolVerify(GetParam(), dir_ / "pub.pem", dir_ / "msg", dir_ / "bad"), 0);
}

TEST_P(OpenSslInteropTest, WeVerifyToolSignature) {
  auto gen = RunCommand("openssl genpkey " + GenpkeyArgs(GetParam()) +
                        " -out " + Q(dir_ / "key.pem") + " 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  auto pub = RunCommand("openssl pkey -in " + Q(dir_ / "key.pem") +
                        " -pubout -out " + Q(dir_ / "pub.pem") + " 2>&1");
  ASSERT_EQ(pub.exit_code, 0) << pub.output;
  WriteFile(dir_ / "msg", ToString(SignContent(label_, content_).value()));
  std::string sign_cmd = IsEdDsa(GetParam())
                             ? "openssl pkeyutl -sign -inkey " +
                                   Q(dir_ / "key.pem") + " -rawin -in " +
                                   Q(dir_ / "msg") + " -out " + Q(dir_ / "sig")
                             : "openssl dgst " + DigestFlag(GetParam()) +
                                   " -sign " + Q(dir_ / "key.pem") + " -out " +
                                   Q(dir_ / "sig") + " " + Q(dir_ / "msg");
  auto signed_ = RunCommand(sign_cmd + " 2>&1");
  ASSERT_EQ(signed_.exit_code, 0) << signed_.output;

  auto key = PublicKey::FromSpkiPem(ReadTextFile(dir_ / "pub.pem"));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->scheme(), GetParam());
  Bytes sig = ToBytes(ReadTextFile(dir_ / "sig"));
  EXPECT_TRUE(VerifyWithLabel(*key, label_, content_, sig).ok());
  EXPECT_EQ(
      VerifyWithLabel(*key, "MigrationConfirmation", content_, sig).code(),
      StatusCode::kBadSignature);

  // The tool's private key file loads as our SigningKey with the same
  // public key (the DS key store uses this format).
  auto priv =
      SigningKey::FromPkcs8Pem(GetParam(), ReadTextFile(dir_ / "key.pem"));
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  EXPECT_EQ(priv->public_key(), *key);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, OpenSslInteropTest,
                         ::testing::ValuesIn(AllSignatureSchemes()),
                         [](const auto& p) {
                           return std::string(SchemeName(p.param));
                         });

}  // namespace
}  // namespace mimi::crypto
