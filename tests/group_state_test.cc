#include "mimi_portability/group_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>

#include "testing/test_bytes.h"

namespace mimi {
namespace {

using ::mimi::testing::Hex;

// Version 2, as this project writes it.
GroupState Example() {
  GroupState s;
  s.cipher_suite = 1;
  s.group_id = Hex("0102");
  s.epoch = 5;
  s.group_info = Hex("aa");
  s.ratchet_tree = Hex("bbcc");
  s.migration_commit = Hex("dd");
  s.pending_messages = {{7, Hex("ee")}, {8, Hex("")}};
  s.last_seq = 9;
  return s;
}

// version 0002, then as version 1 below, then last_seq 0000000000000009.
constexpr std::string_view kExampleHex =
    "0002" "0001" "020102" "0000000000000005" "01aa" "02bbcc" "01dd"
    "13" "0000000000000007" "01ee" "0000000000000008" "00"
    "0000000000000009";

GroupState ExampleV1() {
  GroupState s = Example();
  s.version = 1;
  s.last_seq = 8;  // what a reader derives: the last pending seq
  return s;
}

// version 0001, suite 0001, group_id 02 0102, epoch 0000000000000005,
// group_info 01 aa, ratchet_tree 02 bbcc, migration_commit 01 dd,
// pending_messages 13 (19 bytes) = [seq 0000000000000007, 01 ee] [seq ...08, 00]
constexpr std::string_view kExampleV1Hex =
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

TEST(GroupStateTest, KnownAnswerVersion1) {
  auto encoded = Encode(ExampleV1());
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(ToHex(*encoded), kExampleV1Hex);
  auto decoded = DecodeGroupState(Hex(kExampleV1Hex));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, ExampleV1());
}

TEST(GroupStateTest, Version1WithoutMessagesContinuesFromZero) {
  GroupState s = ExampleV1();
  s.pending_messages.clear();
  s.last_seq = 0;
  auto encoded = Encode(s);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(ToHex(*encoded),
            "0001" "0001" "020102" "0000000000000005" "01aa" "02bbcc" "01dd" "00");
  auto decoded = DecodeGroupState(*encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->last_seq, 0u);
  // Version 1 cannot say anything else: Encode refuses to drop a last_seq.
  s.last_seq = 4;
  EXPECT_EQ(Encode(s).status().code(), StatusCode::kInvalidArgument);
}

TEST(GroupStateTest, SeqsOutOfOrderOrBeyondLastSeqAreRefused) {
  GroupState s = Example();
  s.last_seq = 7;  // below the pending seq 8
  EXPECT_EQ(Encode(s).status().code(), StatusCode::kInvalidArgument);
  // The same bytes from a peer: last_seq 7 in place of 9.
  std::string hex(kExampleHex);
  hex.replace(hex.size() - 2, 2, "07");
  auto r = DecodeGroupState(Hex(hex));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kMalformed);
  EXPECT_EQ(r.status().detail(),
            "GroupState.last_seq: 7 is below the pending message seq 8");

  s = Example();
  s.pending_messages = {{8, Hex("ee")}, {8, Hex("")}};  // a duplicate
  EXPECT_EQ(Encode(s).status().code(), StatusCode::kInvalidArgument);
  s.pending_messages = {{0, Hex("ee")}};  // members fetch after 0: never seen
  EXPECT_EQ(Encode(s).status().code(), StatusCode::kInvalidArgument);
  // seq 8 then 7, in both versions.
  for (std::string_view version : {"0001", "0002"}) {
    std::string swapped = std::string(version) +
                          "0001" "020102" "0000000000000005" "01aa" "02bbcc" "01dd"
                          "13" "0000000000000008" "01ee" "0000000000000007" "00";
    if (version == "0002") swapped += "0000000000000009";
    auto bad = DecodeGroupState(Hex(swapped));
    ASSERT_FALSE(bad.ok()) << version;
    EXPECT_EQ(bad.status().detail(),
              "GroupState.pending_messages[1].seq: 7 is not above 8");
  }
}

// Strict decoding: whatever decodes after a flipped byte is a different
// state that encodes back to exactly the bytes read (no two encodings of one
// state); everything else is refused with a named field.
TEST(GroupStateTest, EveryByteFlipIsRefusedOrReadsBackExactly) {
  for (std::string_view hex : {kExampleHex, kExampleV1Hex}) {
    const Bytes original = Hex(hex);
    for (size_t i = 0; i < original.size(); ++i) {
      for (uint8_t mask : {0x01, 0x80, 0xff}) {
        Bytes flipped = original;
        flipped[i] ^= mask;
        auto r = DecodeGroupState(flipped);
        if (!r.ok()) {
          EXPECT_EQ(r.status().detail().rfind("GroupState", 0), 0u)
              << i << ": " << r.status().ToString();
          continue;
        }
        EXPECT_NE(*r, Example()) << i;
        EXPECT_NE(*r, ExampleV1()) << i;
        auto again = Encode(*r);
        ASSERT_TRUE(again.ok()) << i << ": " << again.status().ToString();
        EXPECT_EQ(*again, flipped) << i;
      }
    }
  }
}

TEST(GroupStateTest, EveryTruncationAndTrailingByteIsRejected) {
  for (std::string_view hex : {kExampleHex, kExampleV1Hex}) {
    Bytes full = Hex(hex);
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
}

// The views the target checks and imports from (DecodeGroupStateView)
// point into the decoded bytes, carry what DecodeGroupState copies, and
// refuse exactly what it refuses, with the same status; EncodeWithTree (the
// export, tree read into place) writes what Encode writes.
TEST(GroupStateTest, ViewsDecodeAndRefuseLikeCopies) {
  for (std::string_view hex : {kExampleHex, kExampleV1Hex}) {
    const Bytes original = Hex(hex);
    for (size_t i = 0; i <= original.size(); ++i) {
      for (uint8_t mask : {0x00, 0x01, 0x80}) {
        Bytes bytes = original;
        if (i < bytes.size()) bytes[i] ^= mask;
        ByteSpan in(bytes.data(), mask == 0 ? i : bytes.size());
        auto copy = DecodeGroupState(in);
        auto view = DecodeGroupStateView(in);
        ASSERT_EQ(copy.ok(), view.ok()) << i;
        if (!copy.ok()) {
          EXPECT_EQ(view.status().code(), copy.status().code()) << i;
          EXPECT_EQ(view.status().detail(), copy.status().detail()) << i;
          continue;
        }
        EXPECT_EQ(view->version, copy->version);
        EXPECT_EQ(view->cipher_suite, copy->cipher_suite);
        EXPECT_TRUE(std::ranges::equal(view->group_id, copy->group_id));
        EXPECT_EQ(view->epoch, copy->epoch);
        EXPECT_TRUE(std::ranges::equal(view->group_info, copy->group_info));
        EXPECT_TRUE(std::ranges::equal(view->ratchet_tree, copy->ratchet_tree));
        EXPECT_GE(view->ratchet_tree.data(), in.data());
        EXPECT_LE(view->ratchet_tree.data() + view->ratchet_tree.size(),
                  in.data() + in.size());
        EXPECT_TRUE(
            std::ranges::equal(view->migration_commit, copy->migration_commit));
        ASSERT_EQ(view->pending_messages.size(), copy->pending_messages.size());
        for (size_t m = 0; m < view->pending_messages.size(); ++m) {
          EXPECT_EQ(view->pending_messages[m].seq, copy->pending_messages[m].seq);
          EXPECT_TRUE(std::ranges::equal(view->pending_messages[m].message,
                                         copy->pending_messages[m].message));
        }
        EXPECT_EQ(view->last_seq, copy->last_seq);
      }
    }
  }
  for (const GroupState& s : {Example(), ExampleV1()}) {
    auto filled = EncodeWithTree(
        s, s.ratchet_tree.size(),
        [&s](std::span<uint8_t> out) {
          std::copy(s.ratchet_tree.begin(), s.ratchet_tree.end(), out.begin());
          return Status::Ok();
        },
        100);
    ASSERT_TRUE(filled.ok());
    EXPECT_EQ(*filled, *Encode(s));
    EXPECT_GE(filled->capacity(), filled->size() + 100);
    // A tree that cannot be read fails the encoding with its status.
    auto failed = EncodeWithTree(
        s, 2, [](std::span<uint8_t>) { return InternalError("no tree"); }, 0);
    EXPECT_EQ(failed.status().detail(), "no tree");
  }
}

TEST(GroupStateTest, TruncatedMessageInsideTheListIsNamed) {
  // pending_messages claims 3 bytes: a seq needs 8.
  auto r = DecodeGroupState(Hex("0001000100" "0000000000000000" "00000003" "010203"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().detail(), "GroupState.pending_messages.seq: truncated");
}

TEST(GroupStateTest, UnknownVersionIsUnsupported) {
  for (std::string_view version : {"0000", "0003", "ffff"}) {
    auto r = DecodeGroupState(Hex(version));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported) << version;
  }
}

}  // namespace
}  // namespace mimi
