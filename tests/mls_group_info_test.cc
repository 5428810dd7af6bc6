#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "codec/json_text.h"
#include "mls/group_info.h"
#include "mls/ratchet_tree.h"
#include "testing/read_file.h"

namespace mimi::mls {
namespace {

using ::mimi::testing::ReadTextFile;

Bytes Fixture(const std::string& name) {
  std::string hex =
      ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/") + name);
  return FromHex(hex).value();
}

class GroupInfoFixtureTest : public ::testing::TestWithParam<int> {};

TEST_P(GroupInfoFixtureTest, ReadsTsMlsGroupInfo) {
  const int suite = GetParam();
  auto manifest = mimi::codec::ParseJson(
      ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/manifest.json")));
  const auto& expected = manifest["suites"][suite - 1];
  // The fixture is a bare GroupInfo; clients send it as MLSMessage
  // (version mls10 = 1, wire_format mls_group_info = 4).
  const std::string name = "group_info_suite" + std::to_string(suite) + ".hex";
  auto bare_gi = DecodeGroupInfo(Fixture(name));
  ASSERT_TRUE(bare_gi.ok()) << bare_gi.status().ToString();
  Bytes bytes =
      FromHex("00010004" +
              ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/") + name))
          .value();
  auto gi = DecodeGroupInfoMessage(bytes);
  ASSERT_TRUE(gi.ok()) << gi.status().ToString();
  EXPECT_EQ(gi->group_context.cipher_suite, suite);
  EXPECT_EQ(ToHex(gi->group_context.group_id), expected["group_id"]);
  EXPECT_EQ(gi->group_context.epoch, expected["epoch"].get<uint64_t>());
  EXPECT_FALSE(gi->signature.empty());
  EXPECT_EQ(gi->signature, bare_gi->signature);
  // ts-mls puts no ratchet_tree extension in this GroupInfo; the tree comes
  // separately and must parse with the suite's three members.
  auto tree = DecodeRatchetTree(
      Fixture("ratchet_tree_suite" + std::to_string(suite) + ".hex"));
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(tree->leaf_count(), 3u);
  // Every truncation is refused with a field name.
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodeGroupInfoMessage(ByteSpan(bytes.data(), n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().detail().rfind("MLSMessage", 0), 0u) << r.status().detail();
  }
  bytes.push_back(0);
  EXPECT_EQ(DecodeGroupInfoMessage(bytes).status().detail(),
            "MLSMessage: 1 trailing bytes");
}

INSTANTIATE_TEST_SUITE_P(Suites, GroupInfoFixtureTest, ::testing::Values(1, 2));

TEST(GroupInfoTest, OtherWireFormatsAreRefused) {
  Bytes commit = Fixture("commit_public_suite1.hex");
  auto r = DecodeGroupInfoMessage(commit);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().detail(),
            "MLSMessage.wire_format: 1 where mls_group_info (4) was expected");
}

}  // namespace
}  // namespace mimi::mls
