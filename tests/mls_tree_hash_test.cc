// RFC 9420 §7.8 tree hashes: the official tree-validation vectors for every
// supported suite (every node of every tree), and the trees ts-mls made for
// the fixtures hash to what their GroupInfos say.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "codec/json_text.h"
#include "codec/writer.h"
#include "crypto/ciphersuite.h"
#include "mls/group_info.h"
#include "mls/ratchet_tree.h"
#include "mls/tree_hash.h"
#include "testing/mls_fixtures.h"
#include "testing/read_file.h"
#include "testing/test_bytes.h"

namespace mimi::mls {
namespace {

using ::mimi::testing::BlankRatchetTree;

using ::mimi::testing::ReadTextFile;

TEST(TreeHashTest, OfficialVectorsEveryNodeEverySuite) {
  const std::string text = ReadTextFile(
      std::string(MIMI_TEST_DATA_DIR "/mls-vectors/tree-validation.json"));
  ASSERT_FALSE(text.empty()) << "missing tests/data/mls-vectors/tree-validation.json";
  const nlohmann::json doc = mimi::codec::ParseJson(text);
  std::set<uint16_t> suites;
  size_t trees = 0;
  for (const auto& v : doc["vectors"]) {
    const uint16_t suite = v["cipher_suite"].get<uint16_t>();
    SCOPED_TRACE("suite " + std::to_string(suite) + " tree " + std::to_string(trees));
    const Bytes tree = FromHex(v["tree"].get<std::string>()).value();
    auto hashes = RatchetTreeNodeHashes(suite, tree);
    ASSERT_TRUE(hashes.ok()) << hashes.status().ToString();
    const auto& expected = v["tree_hashes"];
    ASSERT_EQ(hashes->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(ToHex((*hashes)[i]), expected[i].get<std::string>()) << "node " << i;
    }
    auto root = RatchetTreeHash(suite, tree);
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(ToHex(*root), expected[expected.size() / 2].get<std::string>());
    suites.insert(suite);
    ++trees;
  }
  EXPECT_EQ(suites.size(), crypto::AllCipherSuites().size());
  EXPECT_GE(trees, 7u);
}

TEST(TreeHashTest, TsMlsTreesMatchTheirGroupInfo) {
  for (int suite : {1, 2}) {
    SCOPED_TRACE(suite);
    auto info = DecodeGroupInfo(testing::ReadMlsHexFixture("group_info_suite" + std::to_string(suite) + ".hex"));
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    auto hash = RatchetTreeHash(info->group_context.cipher_suite,
                                testing::ReadMlsHexFixture("ratchet_tree_suite" + std::to_string(suite) + ".hex"));
    ASSERT_TRUE(hash.ok()) << hash.status().ToString();
    EXPECT_EQ(ToHex(*hash), ToHex(info->group_context.tree_hash));
  }
}

TEST(TreeHashTest, AnyChangeToTheTreeChangesTheHash) {
  const Bytes tree = testing::ReadMlsHexFixture("ratchet_tree_suite1.hex");
  const Bytes before = RatchetTreeHash(1, tree).value();
  // A byte inside the first leaf's encryption key (after the vector length,
  // presence and node type).
  Bytes changed = tree;
  changed[10] ^= 0x01;
  auto after = RatchetTreeHash(1, changed);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_NE(*after, before);
}

// A blank node is one byte: without the bound, a 64 MiB body would make
// 2^26 nodes to hash. One node past it is refused while reading; at it, the
// usual rules apply (all blank: not ending on a leaf).
TEST(TreeHashTest, RefusesTreesOverTheNodeBound) {
  auto over = RatchetTreeHash(1, BlankRatchetTree(kMaxRatchetTreeNodes + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(over.status().reason(), "tree-too-large");
  auto at = RatchetTreeHash(1, BlankRatchetTree(kMaxRatchetTreeNodes));
  ASSERT_FALSE(at.ok());
  EXPECT_EQ(at.status().code(), StatusCode::kMalformed);
}

TEST(TreeHashTest, RefusesBadTreesAndSuites) {
  EXPECT_EQ(RatchetTreeHash(1, Bytes{}).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(RatchetTreeHash(1, Bytes{0x00}).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(RatchetTreeHash(0x99, testing::ReadMlsHexFixture("ratchet_tree_suite1.hex")).status().code(),
            StatusCode::kUnsupported);
  Bytes trailing = testing::ReadMlsHexFixture("ratchet_tree_suite1.hex");
  trailing.push_back(0);
  EXPECT_EQ(RatchetTreeHash(1, trailing).status().code(), StatusCode::kMalformed);
}

}  // namespace
}  // namespace mimi::mls
