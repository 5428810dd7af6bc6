// HMAC in the crypto module (RFC 4231 vectors) and the hook signature scheme
// of the DS hooks: header format, request and response MACs (values fixed
// independently with Python's hmac module, which the stand-in DS uses),
// clock window, and what a one-bit change does.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "crypto/hmac.h"
#include "ds_http/hook_signature.h"

namespace mimi::ds_http {
namespace {

using crypto::HashAlgorithm;

std::string HmacHex(HashAlgorithm h, ByteSpan key, std::string_view data) {
  auto mac = crypto::Hmac(h, key, ToBytes(data));
  EXPECT_TRUE(mac.ok()) << mac.status().ToString();
  return mac.ok() ? ToHex(*mac) : "";
}

TEST(HmacTest, Rfc4231Vectors) {
  const Bytes key1(20, 0x0b);
  EXPECT_EQ(HmacHex(HashAlgorithm::kSha256, key1, "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HmacHex(HashAlgorithm::kSha384, key1, "Hi There"),
            "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
            "faea9ea9076ede7f4af152e8b2fa9cb6");
  EXPECT_EQ(HmacHex(HashAlgorithm::kSha512, key1, "Hi There"),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(HmacHex(HashAlgorithm::kSha256, Bytes(131, 0xaa),
                    "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HmacHex(HashAlgorithm::kSha256, {}, ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacTest, ConstantTimeEquals) {
  EXPECT_TRUE(crypto::ConstantTimeEquals(Bytes{1, 2, 3}, Bytes{1, 2, 3}));
  EXPECT_FALSE(crypto::ConstantTimeEquals(Bytes{1, 2, 3}, Bytes{1, 2, 4}));
  EXPECT_FALSE(crypto::ConstantTimeEquals(Bytes{1, 2, 3}, Bytes{1, 2}));
  EXPECT_TRUE(crypto::ConstantTimeEquals(Bytes{}, Bytes{}));
}

const Bytes kSecret = ToBytes("0123456789abcdef0123456789abcdef");
constexpr char kPath[] = "/mimi-hooks/v1/freeze";
constexpr char kBody[] = R"({"a":1})";
constexpr UnixMillis kT = 1'700'000'000'000;

TEST(HookSignatureTest,
     RequestAndResponseMacsMatchAnIndependentImplementation) {
  auto req = SignRequest(kSecret, "POST", kPath, kBody, kT);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(FormatSignatureHeader(*req),
            "t=1700000000000,v1="
            "a4873ffd01d9e4666d5276d74ba41ac54390b8306afad56ab9c6d1969ed15f59");
  const Bytes request_mac(32, 0xab);
  auto res = SignResponse(kSecret, 200, kPath, request_mac, "{}", kT + 1);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(ToHex(res->mac),
            "178e772caa93391088a51ea037be783c30e1cac4d55ec2e0a73073c626aee572");
  EXPECT_TRUE(VerifyResponse(kSecret, FormatSignatureHeader(*res), 200, kPath,
                             request_mac, "{}")
                  .ok());
  // Bound to the status, the request's MAC and the body.
  EXPECT_FALSE(VerifyResponse(kSecret, FormatSignatureHeader(*res), 404, kPath,
                              request_mac, "{}")
                   .ok());
  EXPECT_FALSE(VerifyResponse(kSecret, FormatSignatureHeader(*res), 200, kPath,
                              Bytes(32, 0xac), "{}")
                   .ok());
  EXPECT_FALSE(VerifyResponse(kSecret, FormatSignatureHeader(*res), 200, kPath,
                              request_mac, "{ }")
                   .ok());
}

TEST(HookSignatureTest, VerifyRequestChecksMacThenClock) {
  auto sig = SignRequest(kSecret, "POST", kPath, kBody, kT);
  ASSERT_TRUE(sig.ok());
  const std::string header = FormatSignatureHeader(*sig);
  EXPECT_TRUE(VerifyRequest(kSecret, header, "POST", kPath, kBody, kT).ok());
  EXPECT_TRUE(
      VerifyRequest(kSecret, header, "POST", kPath, kBody, kT + kMaxClockSkewMs)
          .ok());
  EXPECT_TRUE(
      VerifyRequest(kSecret, header, "POST", kPath, kBody, kT - kMaxClockSkewMs)
          .ok());
  Status stale = VerifyRequest(kSecret, header, "POST", kPath, kBody,
                               kT + kMaxClockSkewMs + 1);
  EXPECT_EQ(stale.reason(), "stale-timestamp");
  Status early = VerifyRequest(kSecret, header, "POST", kPath, kBody,
                               kT - kMaxClockSkewMs - 1);
  EXPECT_EQ(early.reason(), "stale-timestamp");

  for (auto [method, path, body] : {std::tuple{"GET", kPath, kBody},
                                    {"POST", "/mimi-hooks/v1/unfreeze", kBody},
                                    {"POST", kPath, R"({"a":2})"}}) {
    Status s = VerifyRequest(kSecret, header, method, path, body, kT);
    EXPECT_EQ(s.code(), StatusCode::kBadSignature) << method << path << body;
    EXPECT_EQ(s.reason(), "bad-signature");
  }
  Bytes other_secret = kSecret;
  other_secret.back() ^= 1;
  EXPECT_EQ(
      VerifyRequest(other_secret, header, "POST", kPath, kBody, kT).reason(),
      "bad-signature");
  // A forged request with an old timestamp is "bad-signature", not "stale":
  // the MAC is checked first.
  HookSignature forged = *sig;
  forged.mac[31] ^= 0x80;
  EXPECT_EQ(VerifyRequest(kSecret, FormatSignatureHeader(forged), "POST", kPath,
                          kBody, kT + 10 * kMaxClockSkewMs)
                .reason(),
            "bad-signature");
}

TEST(HookSignatureTest, HeaderParsingIsStrict) {
  const std::string mac(64, 'a');
  auto ok = ParseSignatureHeader("t=12,v1=" + mac);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->timestamp_ms, 12);
  EXPECT_EQ(ok->mac, Bytes(32, 0xaa));
  for (const std::string& bad : std::vector<std::string>{
           "", "v1=" + mac + ",t=12", "t=,v1=" + mac, "t=-1,v1=" + mac,
           "t=1x,v1=" + mac, "t=12", "t=12,v1=" + mac.substr(2),
           "t=12,v1=" + mac + "00", "t=12,v2=" + mac,
           "t=12,v1=" + mac.substr(1) + "g", "t=12,v1=" + mac.substr(2) + " a",
           "t=1234567890123456789,v1=" + mac}) {
    auto r = ParseSignatureHeader(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed) << bad;
  }
}

}  // namespace
}  // namespace mimi::ds_http
