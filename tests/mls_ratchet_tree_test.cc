// The ratchet tree and LeafNode readers against ts-mls output, and LeafNode
// shapes ts-mls does not make (x509, unknown credential, bad source).
//
// Fixture directory: $MIMI_MLS_FIXTURES when set, else tests/data/mls.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "codec/json_text.h"
#include "codec/writer.h"
#include "mls/leaf_node.h"
#include "mls/mls_json.h"
#include "mls/ratchet_tree.h"
#include "testing/mls_fixtures.h"
#include "testing/test_bytes.h"

namespace mimi::mls {
namespace {

using ::mimi::testing::BlankRatchetTree;

using ::testing::HasSubstr;
using nlohmann::json;


std::string TreeFile(int suite) { return "ratchet_tree_suite" + std::to_string(suite) + ".hex"; }

TEST(MlsRatchetTreeTest, LeavesCarryTheMembersKeysAndCredentials) {
  const json manifest =
      mimi::codec::ParseJson(testing::ReadMlsFixtureText("manifest.json"));
  for (int suite : {1, 2}) {
    SCOPED_TRACE(suite);
    auto tree = DecodeRatchetTree(testing::ReadMlsHexFixture(TreeFile(suite)));
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();
    EXPECT_EQ(tree->nodes.size(), 5u);
    EXPECT_EQ(tree->leaf_count(), 3u);
    const json& members = manifest["suites"][suite - 1]["members"];
    ASSERT_EQ(members.size(), 3u);
    for (uint32_t i = 0; i < 3; ++i) {
      const LeafNode* leaf = tree->Leaf(i);
      ASSERT_NE(leaf, nullptr) << i;
      EXPECT_EQ(ToHex(leaf->signature_key), members[i]["signature_public_key"].get<std::string>());
      EXPECT_EQ(leaf->credential.type, kCredentialBasic);
      EXPECT_EQ(ToString(leaf->credential.identity), members[i]["identity"].get<std::string>());
      EXPECT_FALSE(leaf->signature.empty());
      EXPECT_FALSE(leaf->signed_fields.empty());
      EXPECT_THAT(leaf->capabilities.cipher_suites, ::testing::Contains(suite));
    }
    // ts-mls 1.6.4 sends compressed SEC1 points for P-256 (docs/protocol.md §2.2).
    const size_t key_size = suite == 1 ? 32 : 33;
    EXPECT_EQ(tree->Leaf(0)->signature_key.size(), key_size);
    EXPECT_EQ(tree->Leaf(3), nullptr);
    EXPECT_EQ(ToJson(*tree)["leaves"].size(), 3u);
  }
}

TEST(MlsRatchetTreeTest, EveryTruncationAndTrailingByteIsRejected) {
  for (int suite : {1, 2}) {
    SCOPED_TRACE(suite);
    Bytes raw = testing::ReadMlsHexFixture(TreeFile(suite));
    ASSERT_FALSE(raw.empty());
    for (size_t n = 0; n < raw.size(); ++n) {
      auto tree = DecodeRatchetTree(ByteSpan(raw).first(n));
      ASSERT_FALSE(tree.ok()) << n;
      ASSERT_EQ(tree.status().code(), StatusCode::kMalformed) << tree.status().ToString();
    }
    raw.push_back(0);
    auto tree = DecodeRatchetTree(raw);
    ASSERT_FALSE(tree.ok());
    EXPECT_EQ(tree.status().detail(), "ratchet_tree: 1 trailing bytes");
  }
}

TEST(MlsRatchetTreeTest, NodeTypeMustMatchItsPosition) {
  const Bytes raw = testing::ReadMlsHexFixture(TreeFile(1));
  // <V> length, then node 0: present(1) node_type(1 = leaf).
  const size_t len_bytes = (raw[0] >> 6) == 1 ? 2 : (raw[0] >> 6) == 2 ? 4 : 1;
  ASSERT_EQ(raw[len_bytes], 1);
  ASSERT_EQ(raw[len_bytes + 1], 1);
  Bytes bad = raw;
  bad[len_bytes + 1] = 2;  // a parent where leaf 0 belongs
  auto tree = DecodeRatchetTree(bad);
  ASSERT_FALSE(tree.ok());
  EXPECT_THAT(tree.status().detail(), HasSubstr("ratchet_tree[0].node_type"));
  bad[len_bytes] = 2;  // presence byte neither 0 nor 1
  tree = DecodeRatchetTree(bad);
  ASSERT_FALSE(tree.ok());
  EXPECT_THAT(tree.status().detail(), HasSubstr("ratchet_tree[0]: optional presence"));
}

TEST(MlsRatchetTreeTest, TreeMustEndOnALeaf) {
  // [leaf-blank? no: one blank leaf only] and [blank, blank parent, ...]
  EXPECT_FALSE(DecodeRatchetTree(FromHex("00").value()).ok()) << "no nodes";
  EXPECT_FALSE(DecodeRatchetTree(FromHex("0100").value()).ok()) << "one blank leaf";
  auto two = DecodeRatchetTree(FromHex("020000").value());
  ASSERT_FALSE(two.ok());
  EXPECT_THAT(two.status().detail(), HasSubstr("does not end on a non-blank leaf"));
}

// Past kMaxRatchetTreeNodes a tree is refused as too large while it is read,
// not after gigabytes of bookkeeping. (The exact bound is checked on the
// cheaper reader in mls_tree_hash_test.)
TEST(MlsRatchetTreeTest, TreesOverTheNodeBoundAreRefused) {
  auto over = DecodeRatchetTree(BlankRatchetTree(kMaxRatchetTreeNodes + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(over.status().reason(), "tree-too-large");
}

// The walk keeps no nodes but reads by the same rules: the same nodes in
// order, and the same verdict and error as DecodeRatchetTree (built on it)
// for every truncation and a trailing byte. A visitor may stop the walk
// early, and its error ends the walk.
TEST(MlsRatchetTreeTest, WalkVisitsWhatDecodeKeeps) {
  for (int suite : {1, 2}) {
    SCOPED_TRACE(suite);
    Bytes raw = testing::ReadMlsHexFixture(TreeFile(suite));
    auto tree = DecodeRatchetTree(raw);
    ASSERT_TRUE(tree.ok()) << tree.status().ToString();

    std::vector<std::string> seen;  // "b", "p" or the leaf's key in hex
    RatchetTreeVisitor all;
    all.on_blank = [&seen](size_t index) {
      EXPECT_EQ(index, seen.size());
      seen.push_back("b");
      return Status::Ok();
    };
    all.on_parent = [&seen](size_t index, ParentNode&) {
      EXPECT_EQ(index, seen.size());
      seen.push_back("p");
      return Status::Ok();
    };
    all.on_leaf = [&seen](uint32_t leaf_index, LeafNode& leaf, bool*) {
      EXPECT_EQ(size_t{leaf_index} * 2, seen.size());
      seen.push_back(ToHex(leaf.signature_key));
      return Status::Ok();
    };
    ASSERT_TRUE(WalkRatchetTree(raw, all).ok());
    std::vector<std::string> kept;
    for (const auto& node : tree->nodes) {
      kept.push_back(!node ? "b" : node->parent ? "p" : ToHex(node->leaf->signature_key));
    }
    EXPECT_EQ(seen, kept);

    std::vector<uint32_t> leaves;
    RatchetTreeVisitor first;
    first.on_leaf = [&leaves](uint32_t leaf_index, LeafNode&, bool* stop) {
      leaves.push_back(leaf_index);
      *stop = true;
      return Status::Ok();
    };
    EXPECT_TRUE(WalkRatchetTree(raw, first).ok());
    EXPECT_EQ(leaves, std::vector<uint32_t>{0});

    RatchetTreeVisitor failing;
    failing.on_leaf = [](uint32_t, LeafNode&, bool*) { return InternalError("no"); };
    EXPECT_EQ(WalkRatchetTree(raw, failing), InternalError("no"));

    raw.push_back(0);
    for (size_t n = 0; n <= raw.size(); ++n) {
      const ByteSpan bytes = ByteSpan(raw).first(n);
      EXPECT_EQ(WalkRatchetTree(bytes, RatchetTreeVisitor{}),
                DecodeRatchetTree(bytes).status())
          << n;
    }
  }
}

// A LeafNode built by hand: x509 credential, update source, one extension.
Bytes HandLeaf(uint16_t credential_type, uint8_t source, bool duplicate_extension) {
  codec::Writer w;
  w.WriteOpaque("encryption_key", Bytes(32, 1));
  w.WriteOpaque("signature_key", Bytes(65, 4));
  w.WriteU16(credential_type);
  if (credential_type == kCredentialX509) {
    codec::Writer certs;
    certs.WriteOpaque("cert", ToBytes("cert-a"));
    certs.WriteOpaque("cert", ToBytes("cert-bb"));
    w.WriteOpaque("certificates", std::move(certs).Finish().value());
  } else {
    w.WriteOpaque("identity", ToBytes("x"));
  }
  // capabilities: five uint16 lists
  w.WriteOpaque("versions", Bytes{0, 1});
  w.WriteOpaque("cipher_suites", Bytes{0, 2});
  w.WriteOpaque("extensions", Bytes{});
  w.WriteOpaque("proposals", Bytes{});
  w.WriteOpaque("credentials", Bytes{0, 1, 0, 2});
  w.WriteU8(source);
  if (source == 1) {
    w.WriteU64(10);
    w.WriteU64(20);
  }
  if (source == 3) w.WriteOpaque("parent_hash", Bytes(32, 7));
  codec::Writer ext;
  ext.WriteU16(0xff00);
  ext.WriteOpaque("data", ToBytes("d"));
  if (duplicate_extension) {
    ext.WriteU16(0xff00);
    ext.WriteOpaque("data", Bytes{});
  }
  w.WriteOpaque("extensions", std::move(ext).Finish().value());
  w.WriteOpaque("signature", Bytes(64, 9));
  return std::move(w).Finish().value();
}

TEST(MlsLeafNodeTest, ReadsX509AndEverySource) {
  for (uint8_t source : {1, 2, 3}) {
    SCOPED_TRACE(source);
    const Bytes raw = HandLeaf(kCredentialX509, source, false);
    auto leaf = DecodeLeafNode(raw);
    ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
    EXPECT_EQ(leaf->signature_key.size(), 65u);
    ASSERT_EQ(leaf->credential.certificates.size(), 2u);
    EXPECT_EQ(ToString(leaf->credential.certificates[1]), "cert-bb");
    EXPECT_EQ(leaf->capabilities.credentials, (std::vector<uint16_t>{1, 2}));
    EXPECT_EQ(static_cast<uint8_t>(leaf->source), source);
    if (source == 1) {
      EXPECT_EQ(leaf->lifetime.not_after, 20u);
    }
    if (source == 3) {
      EXPECT_EQ(leaf->parent_hash, Bytes(32, 7));
    }
    ASSERT_EQ(leaf->extensions.size(), 1u);
    EXPECT_EQ(leaf->extensions[0].type, 0xff00);
    // signed_fields || signature<V> is the whole LeafNode.
    EXPECT_EQ(leaf->signed_fields.size() + 2 + 64, raw.size());  // 64 needs a 2-byte varint
    for (size_t n = 0; n < raw.size(); ++n) {
      ASSERT_FALSE(DecodeLeafNode(ByteSpan(raw).first(n)).ok()) << n;
    }
  }
}

TEST(MlsLeafNodeTest, RefusesWhatItCannotRead) {
  auto custom = DecodeLeafNode(HandLeaf(0xf000, 2, false));
  ASSERT_FALSE(custom.ok());
  EXPECT_EQ(custom.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(custom.status().detail(), HasSubstr("LeafNode.credential.credential_type"));

  auto source = DecodeLeafNode(HandLeaf(kCredentialBasic, 4, false));
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kMalformed);
  EXPECT_THAT(source.status().detail(), HasSubstr("LeafNode.leaf_node_source: invalid value 4"));

  auto dup = DecodeLeafNode(HandLeaf(kCredentialBasic, 2, true));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.status().detail(), HasSubstr("LeafNode.extensions[1].extension_type"));

  // An odd-length uint16 list: the element, not the list, is truncated.
  Bytes odd = HandLeaf(kCredentialBasic, 2, false);
  // encryption_key(1+32) signature_key(2+65) credential(2+1+1) -> versions<V>
  const size_t versions_at = 33 + 67 + 4;
  ASSERT_EQ(odd[versions_at], 2);
  odd[versions_at] = 1;  // length 1, so the list holds half a uint16
  odd.erase(odd.begin() + versions_at + 1);
  auto bad = DecodeLeafNode(odd);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().detail(), HasSubstr("LeafNode.capabilities.versions[0]: truncated"));
}

}  // namespace
}  // namespace mimi::mls
