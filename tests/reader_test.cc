#include "codec/reader.h"

#include <gtest/gtest.h>

#include "codec/writer.h"
#include "testing/test_bytes.h"

namespace mimi::codec {
namespace {

using ::mimi::testing::Hex;

uint64_t ReadVarintOk(std::string_view hex) {
  Bytes b = Hex(hex);
  Reader r(b);
  uint64_t v = 0;
  Status s = r.ReadVarint("v", &v);
  EXPECT_TRUE(s.ok()) << hex << ": " << s.ToString();
  EXPECT_TRUE(r.empty()) << hex;
  return v;
}

Status ReadVarintError(std::string_view hex) {
  Bytes b = Hex(hex);
  Reader r(b);
  uint64_t v = 12345;
  Status s = r.ReadVarint("Thing.len", &v);
  EXPECT_EQ(v, 12345u) << "a failed read must not touch its output";
  EXPECT_EQ(r.position(), 0u) << "a failed read must consume nothing";
  return s;
}

// RFC 9420 §2.1.2 and the examples of RFC 9000 §A.1 restricted to 30 bits.
TEST(VarintTest, DecodesTheThreeForms) {
  EXPECT_EQ(ReadVarintOk("00"), 0u);
  EXPECT_EQ(ReadVarintOk("25"), 37u);
  EXPECT_EQ(ReadVarintOk("3f"), 63u);
  EXPECT_EQ(ReadVarintOk("4040"), 64u);
  EXPECT_EQ(ReadVarintOk("7bbd"), 15293u);
  EXPECT_EQ(ReadVarintOk("7fff"), 16383u);
  EXPECT_EQ(ReadVarintOk("80004000"), 16384u);
  EXPECT_EQ(ReadVarintOk("9d7f3e7d"), 494878333u);
  EXPECT_EQ(ReadVarintOk("bfffffff"), kMaxVarint);
}

TEST(VarintTest, RejectsPrefix11) {
  for (auto hex : {"c0", "c000000000000000", "ff"}) {
    Status s = ReadVarintError(hex);
    EXPECT_EQ(s.code(), StatusCode::kMalformed);
    EXPECT_EQ(s.detail(), "Thing.len: invalid varint prefix 0b11") << hex;
  }
}

TEST(VarintTest, RejectsNonMinimalEncodings) {
  for (auto hex : {"4000", "4025", "403f", "80000000", "8000003f", "80000040",
                   "80003fff"}) {
    Status s = ReadVarintError(hex);
    EXPECT_EQ(s.code(), StatusCode::kMalformed) << hex;
    EXPECT_EQ(s.detail(), "Thing.len: non-minimal varint") << hex;
  }
}

TEST(VarintTest, RejectsTruncation) {
  for (auto hex : {"", "40", "80", "800000", "bfffff"}) {
    Status s = ReadVarintError(hex);
    EXPECT_EQ(s.code(), StatusCode::kMalformed) << hex;
    EXPECT_EQ(s.detail(), "Thing.len: truncated") << hex;
  }
}

TEST(VarintTest, WriterRoundTripsAtEveryBoundary) {
  for (uint64_t v : {0ull, 1ull, 63ull, 64ull, 16383ull, 16384ull,
                     (1ull << 30) - 1}) {
    Writer w;
    w.WriteVarint("v", v);
    Bytes b = std::move(w).Finish().value();
    EXPECT_EQ(b.size(), v < 64 ? 1u : v < 16384 ? 2u : 4u);
    Reader r(b);
    uint64_t got;
    ASSERT_TRUE(r.ReadVarint("v", &got).ok());
    EXPECT_EQ(got, v);
  }
}

TEST(VarintTest, WriterRefusesValuesPast30Bits) {
  Writer w;
  w.WriteVarint("Big.len", 1ull << 30);
  auto r = std::move(w).Finish();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().detail().find("Big.len"), std::string::npos);
}

TEST(ReaderTest, OpaqueLengthPastEndIsRejectedBeforeAllocation) {
  // Claims 2^30 - 1 bytes with 1 present: must fail without reserving 1 GiB.
  Bytes b = Hex("bfffffff00");
  Reader r(b);
  Bytes out = {1, 2, 3};
  Status s = r.ReadOpaque("M.group_state", &out);
  EXPECT_EQ(s.code(), StatusCode::kMalformed);
  EXPECT_EQ(s.detail(), "M.group_state: length 1073741823 exceeds the 1 bytes left");
  EXPECT_EQ(out, (Bytes{1, 2, 3}));
  EXPECT_EQ(r.position(), 0u);
}

TEST(ReaderTest, IntegersAreBigEndian) {
  Bytes b = Hex("01 0203 04050607 08090a0b0c0d0e0f");
  Reader r(b);
  uint8_t a;
  uint16_t c;
  uint32_t d;
  uint64_t e;
  ASSERT_TRUE(r.ReadU8("a", &a).ok());
  ASSERT_TRUE(r.ReadU16("c", &c).ok());
  ASSERT_TRUE(r.ReadU32("d", &d).ok());
  ASSERT_TRUE(r.ReadU64("e", &e).ok());
  EXPECT_EQ(a, 0x01);
  EXPECT_EQ(c, 0x0203);
  EXPECT_EQ(d, 0x04050607u);
  EXPECT_EQ(e, 0x08090a0b0c0d0e0full);
  EXPECT_TRUE(r.ExpectEnd("X").ok());
  uint8_t extra;
  EXPECT_EQ(r.ReadU8("X.extra", &extra).detail(), "X.extra: truncated");
}

TEST(ReaderTest, ExpectEndCountsTrailingBytes) {
  Bytes b = Hex("000102");
  Reader r(b);
  uint8_t v;
  ASSERT_TRUE(r.ReadU8("v", &v).ok());
  Status s = r.ExpectEnd("MigrationAbort");
  EXPECT_EQ(s.code(), StatusCode::kMalformed);
  EXPECT_EQ(s.detail(), "MigrationAbort: 2 trailing bytes");
}

TEST(HexTest, RoundTripAndErrors) {
  EXPECT_EQ(ToHex(Hex("00ff10AB")), "00ff10ab");
  EXPECT_EQ(Hex(" 0a\n0b "), (Bytes{0x0a, 0x0b}));
  EXPECT_EQ(FromHex("abc").status().code(), StatusCode::kMalformed);
  EXPECT_EQ(FromHex("zz").status().code(), StatusCode::kMalformed);
}

}  // namespace
}  // namespace mimi::codec
