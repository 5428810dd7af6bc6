// The key document: base64, build/serialize/parse round trip, strictness.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "codec/json_text.h"
#include "crypto/signing_key.h"
#include "keys/base64.h"
#include "keys/key_document.h"
#include "keys/key_id.h"
#include "keys/peer_address.h"

namespace mimi::keys {
namespace {

using nlohmann::json;

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : cases) {
    EXPECT_EQ(Base64Encode(ToBytes(plain)), enc);
    auto dec = Base64Decode(enc, "f");
    ASSERT_TRUE(dec.ok()) << enc;
    EXPECT_EQ(ToString(*dec), plain);
  }
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Base64Decode(Base64Encode(all), "f").value(), all);
}

TEST(Base64Test, RejectsNonCanonicalText) {
  for (const char* bad : {"Zg", "Zg=", "Zh==", "Z===", "Zm9v\n", "Zm 9",
                          "Zg==Zg==", "Zm-v", "Zm_v", "=Zm9"}) {
    auto r = Base64Decode(bad, "KeyDocument.keys[0].public_key");
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed) << bad;
    EXPECT_NE(r.status().detail().find("public_key"), std::string::npos);
  }
}

TEST(PeerAddressTest, DomainNames) {
  for (const char* ok : {"a", "example.com", "ds-1.Example.ORG", "x.y.z"}) {
    EXPECT_TRUE(ValidateDomainName(ok).ok()) << ok;
  }
  for (const char* bad : {"", ".", "a..b", "-a.com", "a-.com", "a.com.",
                          "a_b.com", "a b", "a/b", "a:443", "ex\xc3\xa4mple"}) {
    EXPECT_EQ(ValidateDomainName(bad).code(), StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(ValidateDomainName(std::string(64, 'a')).code(),
            StatusCode::kInvalidArgument);
  auto loc = MappedPeerLocator({{"peer.test", {"127.0.0.1", 8443}}});
  EXPECT_EQ(loc("Peer.Test").value(), (PeerAddress{"127.0.0.1", 8443}));
  EXPECT_EQ(loc("other.test").value(), (PeerAddress{"other.test", 443}));
  EXPECT_FALSE(loc("bad/x").ok());
}

class KeyDocumentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k1 = crypto::SigningKey::Generate(crypto::SignatureScheme::kEd25519);
    auto k2 = crypto::SigningKey::Generate(
        crypto::SignatureScheme::kEcdsaSecp256r1Sha256);
    auto k3 = crypto::SigningKey::Generate(crypto::SignatureScheme::kEd25519);
    ASSERT_TRUE(k1.ok() && k2.ok() && k3.ok());
    doc_.domain = "source.example";
    doc_.valid_until = 1'700'000'360'000;
    doc_.keys.push_back({1, k1->public_key(), KeyId(k1->public_key()), {}});
    doc_.keys.push_back({2, k2->public_key(), KeyId(k2->public_key()), {}});
    doc_.old_keys.push_back(
        {1, k3->public_key(), KeyId(k3->public_key()), 1'700'000'999'000});
  }

  json AsJson() { return mimi::codec::ParseJson(SerializeKeyDocument(doc_)); }

  KeyDocument doc_;
};

TEST_F(KeyDocumentTest, RoundTrips) {
  std::string text = SerializeKeyDocument(doc_);
  json j = mimi::codec::ParseJson(text);
  EXPECT_EQ(j["domain"], "source.example");
  EXPECT_EQ(j["keys"][1]["scheme"], "ecdsa_secp256r1_sha256");
  EXPECT_EQ(j["keys"][0]["public_key"],
            Base64Encode(doc_.keys[0].public_key.encoded()));
  EXPECT_EQ(j["old_keys"][0]["expires"], 1'700'000'999'000);
  auto back = ParseKeyDocument(text, "Source.Example");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->valid_until, doc_.valid_until);
  ASSERT_EQ(back->keys.size(), 2u);
  EXPECT_EQ(back->keys[1].public_key, doc_.keys[1].public_key);
  ASSERT_EQ(back->old_keys.size(), 1u);
  EXPECT_EQ(back->old_keys[0].public_key, doc_.old_keys[0].public_key);
  EXPECT_EQ(back->old_keys[0].expires, doc_.old_keys[0].expires);
}

TEST_F(KeyDocumentTest, SkipsUnknownSuitesAndMembers) {
  json j = AsJson();
  j["keys"].push_back({{"ciphersuite", 0xf0a0},
                       {"scheme", "future"},
                       {"key_id", "x"},
                       {"public_key", "!!"}});
  j["signatures"] = json::object();
  auto back = ParseKeyDocument(mimi::codec::DumpJson(j), "source.example");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->keys.size(), 2u);
}

TEST_F(KeyDocumentTest, RejectsWhatItUnderstandsButIsWrong) {
  struct Case {
    const char* what;
    std::function<void(json&)> mutate;
    const char* field;
  };
  const Case cases[] = {
      {"domain", [](json& j) { j["domain"] = 5; }, "domain"},
      {"valid_until", [](json& j) { j["valid_until"] = "soon"; },
       "valid_until"},
      {"keys missing", [](json& j) { j.erase("keys"); }, "keys"},
      {"scheme", [](json& j) { j["keys"][0]["scheme"] = "ed448"; }, "scheme"},
      {"base64", [](json& j) { j["keys"][0]["public_key"] = "abc"; },
       "public_key"},
      {"key length",
       [](json& j) { j["keys"][0]["public_key"] = Base64Encode(Bytes(31)); },
       "public_key"},
      {"key id", [](json& j) { j["keys"][0]["key_id"] = "0000000000000000"; },
       "key_id"},
      {"two current", [](json& j) { j["keys"].push_back(j["keys"][0]); },
       "keys"},
      {"old without expires",
       [](json& j) { j["old_keys"][0].erase("expires"); }, "expires"},
      {"suite type", [](json& j) { j["keys"][0]["ciphersuite"] = -1; },
       "ciphersuite"},
  };
  for (const Case& c : cases) {
    json j = AsJson();
    c.mutate(j);
    auto r = ParseKeyDocument(mimi::codec::DumpJson(j), "source.example");
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed) << c.what;
    EXPECT_NE(r.status().detail().find(c.field), std::string::npos)
        << c.what << ": " << r.status().detail();
  }
  EXPECT_EQ(ParseKeyDocument("[]", "source.example").status().code(),
            StatusCode::kMalformed);
  EXPECT_EQ(ParseKeyDocument(std::string(kMaxKeyDocumentBytes + 1, ' '),
                             "source.example")
                .status()
                .code(),
            StatusCode::kMalformed);
  EXPECT_EQ(ParseKeyDocument(SerializeKeyDocument(doc_), "other.example")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mimi::keys
