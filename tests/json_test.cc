// The JSON view of wire messages (codec/json.h): field names, hex byte
// strings, domain names as strings only when printable, and DecodeToJson's
// dispatch by type name.
#include "codec/json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec/json_text.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/messages.h"
#include "testing/test_bytes.h"

namespace mimi::codec {
namespace {

using ::mimi::testing::Hex;

using nlohmann::json;

Nonce NonceOf(uint8_t fill) {
  Nonce n;
  n.fill(fill);
  return n;
}

MigrationRequest Request() {
  return {ToBytes("source.test"), ToBytes("target.test"),
          Hex("00112233445566778899aabbccddeeff"), 7};
}

MigrationResponse Response() { return {Request(), NonceOf(0xab), Hex("5151")}; }

TEST(DomainToJsonTest, PrintableAsciiIsAString) {
  EXPECT_EQ(DomainToJson(ToBytes("source.test")), json("source.test"));
  EXPECT_EQ(DomainToJson(ToBytes(" ~")), json(" ~"));  // 0x20 and 0x7e
  EXPECT_EQ(DomainToJson(Bytes{}), json(""));
}

TEST(DomainToJsonTest, AnythingElseIsHex) {
  // A terminal escape sequence must not reach an operator's terminal.
  EXPECT_EQ(DomainToJson(ToBytes("evil\x1b[2Jtest")),
            json({{"hex", "6576696c1b5b324a74657374"}}));
  EXPECT_EQ(DomainToJson(Bytes{0x1f}), json({{"hex", "1f"}}));
  EXPECT_EQ(DomainToJson(Bytes{0x7f}), json({{"hex", "7f"}}));
  EXPECT_EQ(DomainToJson(ToBytes("b\xc3\xbc"
                                 "cher.test")),  // UTF-8
            json({{"hex", "62c3bc636865722e74657374"}}));
  EXPECT_EQ(DomainToJson(Bytes{'a', 0x00}), json({{"hex", "6100"}}));
}

TEST(ToJsonTest, MigrationRequest) {
  EXPECT_EQ(ToJson(Request()),
            json({{"source_domain_name", "source.test"},
                  {"target_domain_name", "target.test"},
                  {"group_id", "00112233445566778899aabbccddeeff"},
                  {"epoch", 7}}));
}

TEST(ToJsonTest, LargestEpochStaysExact) {
  MigrationRequest m = Request();
  m.epoch = 0xffffffffffffffffu;
  EXPECT_EQ(ToJson(m)["epoch"].get<uint64_t>(), 0xffffffffffffffffu);
  EXPECT_EQ(mimi::codec::DumpJson(ToJson(m)["epoch"]), "18446744073709551615");
}

TEST(ToJsonTest, NestedStructsAreNestedObjects) {
  MigrationInit init{Response(), Hex("c1c2")};
  json j = ToJson(init);
  EXPECT_EQ(j["signature"], "c1c2");
  EXPECT_EQ(j["migration_response"]["signature"], "5151");
  std::string nonce_hex;
  for (int i = 0; i < 32; ++i) nonce_hex += "ab";
  EXPECT_EQ(j["migration_response"]["nonce"], nonce_hex);
  EXPECT_EQ(j["migration_response"]["migration_request"], ToJson(Request()));
}

TEST(ToJsonTest, EveryOtherMessage) {
  EXPECT_EQ(ToJson(MigrationCommitAAD{ToBytes("target.test")}),
            json({{"target_ds_domain", "target.test"}}));
  EXPECT_EQ(ToJson(MigrationContent{Response(), Hex("0102"), Hex("0304")}),
            json({{"migration_response", ToJson(Response())},
                  {"group_state", "0102"},
                  {"signature", "0304"}}));
  EXPECT_EQ(ToJson(TargetMigrationComplete{Hex("aa"), Hex("bb")}),
            json({{"migration_content_hash", "aa"}, {"signature", "bb"}}));
  EXPECT_EQ(ToJson(MigrationConfirmation{ToBytes("target.test"), NonceOf(1),
                                         Hex("0102"), Hex("ff")}),
            json({{"domain_name", "target.test"},
                  {"nonce", ToHex(NonceOf(1))},
                  {"group_id", "0102"},
                  {"signature", "ff"}}));
  EXPECT_EQ(
      ToJson(MigrationInitRequest{MigrationInit{Response(), Hex("99")},
                                  4294967295u, Hex("00010001")}),
      json({{"migration_init", ToJson(MigrationInit{Response(), Hex("99")})},
            {"sender_leaf_index", 4294967295u},
            {"commit", "00010001"}}));
  EXPECT_EQ(ToJson(MigrationAbort{NonceOf(2), Hex("01")}),
            json({{"nonce", ToHex(NonceOf(2))}, {"signature", "01"}}));
  EXPECT_EQ(ToJson(MigrationAbortAck{NonceOf(3), Hex("02")}),
            json({{"nonce", ToHex(NonceOf(3))}, {"signature", "02"}}));
}

TEST(ToJsonTest, HostileDomainInsideARequestIsHex) {
  MigrationRequest m = Request();
  m.target_domain_name = ToBytes("x\ny");
  EXPECT_EQ(ToJson(m)["target_domain_name"], json({{"hex", "780a79"}}));
}

TEST(DecodableTypesTest, AllTenInProtocolOrder) {
  EXPECT_EQ(
      DecodableTypes(),
      (std::vector<std::string>{"MigrationRequest", "MigrationResponse",
                                "MigrationInit", "MigrationCommitAAD",
                                "MigrationContent", "TargetMigrationComplete",
                                "MigrationConfirmation", "MigrationInitRequest",
                                "MigrationAbort", "MigrationAbortAck"}));
}

TEST(DecodeToJsonTest, DecodesByTypeName) {
  Bytes bytes = Encode(Response()).value();
  auto j = DecodeToJson("MigrationResponse", bytes);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(*j, ToJson(Response()));
}

TEST(DecodeToJsonTest, EveryListedTypeDispatchesToItsDecoder) {
  // Empty input fails in each type's first field, which names the type.
  for (const auto& type : DecodableTypes()) {
    auto j = DecodeToJson(type, Bytes{});
    ASSERT_FALSE(j.ok()) << type;
    EXPECT_EQ(j.status().code(), StatusCode::kMalformed) << type;
    EXPECT_TRUE(j.status().detail().starts_with(type + "."))
        << j.status().detail();
  }
}

TEST(DecodeToJsonTest, MalformedInputNamesTheField) {
  Bytes bytes = Encode(Response()).value();
  bytes.resize(60);
  auto j = DecodeToJson("MigrationResponse", bytes);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status(), MalformedError("MigrationResponse.nonce: truncated"));
}

TEST(DecodeToJsonTest, UnknownTypeIsInvalidArgument) {
  for (const std::string type :
       {"MigrationFoo", "", "migrationrequest", "MigrationRequest "}) {
    auto j = DecodeToJson(type, Bytes{0x00});
    ASSERT_FALSE(j.ok()) << type;
    EXPECT_EQ(j.status(),
              InvalidArgumentError("unknown message type '" + type + "'"));
  }
}

}  // namespace
}  // namespace mimi::codec
