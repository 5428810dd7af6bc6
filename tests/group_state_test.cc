#include "mimi_portability/group_state.h"

#include <gtest/gtest.h>

namespace mimi {
namespace {

Bytes Hex(std::string_view h) { return FromHex(h).value(); }

GroupState Example() {
  GroupState s;
  s.cipher_suite = 1;
  s.group_id = Hex("0102");
  s.epoch = 5;
  s.group_info = Hex("aa");
  s.ratchet_tree = Hex("bbcc");
  s.migration_commit = Hex("dd");
  s.pending_messages = {{7, Hex("ee")}, {8, Hex("")}};
  return s;
}

// version 0001, suite 0001, group_id 02 0102, epoch 0000000000000005,
// group_info 01 aa, ratchet_tree 02 bbcc, migration_commit 01 dd,
// pending_messages 13 (19 bytes) = [seq 0000000000000007, 01 ee] [seq ...08, 00]
constexpr std::string_view kExampleHex =
    "0001" "0001" "020102" "0000000000000005" "01aa" "02bbcc" "01dd"
    "13" "0000000000000007" "01ee" "0000000000000008" "00";

TEST(GroupStateTest, KnownAnswer) {
  auto encoded = Encode(Example());
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(ToHex(*encoded), kExampleHex);
  auto decoded = DecodeGroupState(Hex(kExampleHex));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, Example());
}

TEST(GroupStateTest, EveryTruncationAndTrailingByteIsRejected) {
  Bytes full = Hex(kExampleHex);
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = DecodeGroupState(ByteSpan(full.data(), n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed) << n;
    EXPECT_EQ(r.status().detail().rfind("GroupState.", 0), 0u) << r.status().detail();
  }
  full.push_back(0);
  auto r = DecodeGroupState(full);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().detail(), "GroupState: 1 trailing bytes");
}

TEST(GroupStateTest, TruncatedMessageInsideTheListIsNamed) {
  // pending_messages claims 3 bytes: a seq needs 8.
  auto r = DecodeGroupState(Hex("0001000100" "0000000000000000" "00000003" "010203"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().detail(), "GroupState.pending_messages.seq: truncated");
}

TEST(GroupStateTest, UnknownVersionIsUnsupported) {
  auto r = DecodeGroupState(Hex("0002"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace mimi
