#include "mls/tree_hash.h"

#include <string>

#include "codec/reader.h"
#include "codec/writer.h"
#include "crypto/ciphersuite.h"
#include "crypto/hash.h"
#include "mls/leaf_node.h"
#include "mls/ratchet_tree.h"
#include "mls/vectors.h"

namespace mimi::mls {
namespace {

using codec::FieldPath;
using codec::Reader;

constexpr std::string_view kRoot = "ratchet_tree";

// One node of the array: blank, or the LeafNode / ParentNode bytes.
struct RawNode {
  bool present = false;
  ByteSpan body;
};

// The bytes `now` read since `start`, borrowed from the reader's input.
ByteSpan SpanSince(const Reader& start, const Reader& now) {
  Reader copy = start;
  ByteSpan span;
  (void)copy.ReadFixed("node", now.position() - start.position(), &span);
  return span;
}

Result<std::vector<RawNode>> ReadRawNodes(ByteSpan bytes) {
  Reader r(bytes);
  std::vector<RawNode> nodes;
  auto read_node = [&nodes](Reader& sub, std::string_view element) -> Status {
    const size_t index = nodes.size();
    if (index == kMaxRatchetTreeNodes) return TreeTooLargeError(kRoot);
    RawNode node;
    MIMI_RETURN_IF_ERROR(ReadPresence(sub, element, &node.present));
    if (node.present) {
      const std::string type_field = FieldPath(element, "node_type");
      uint8_t type = 0;
      MIMI_RETURN_IF_ERROR(sub.ReadU8(type_field, &type));
      const bool leaf_position = index % 2 == 0;
      const Reader start = sub;
      if (type == 1 && leaf_position) {
        LeafNode leaf;
        MIMI_RETURN_IF_ERROR(ReadLeafNode(sub, FieldPath(element, "leaf_node"), &leaf));
      } else if (type == 2 && !leaf_position) {
        MIMI_RETURN_IF_ERROR(SkipParentNode(sub, FieldPath(element, "parent_node")));
      } else if (type == 1 || type == 2) {
        return MalformedError(type_field + ": a " + (type == 1 ? "leaf" : "parent") +
                              " at node index " + std::to_string(index) + ", where a " +
                              (leaf_position ? "leaf" : "parent") + " belongs");
      } else {
        return MalformedError(type_field + ": invalid node type " + std::to_string(type));
      }
      node.body = SpanSince(start, sub);
    }
    nodes.push_back(node);
    return Status::Ok();
  };
  MIMI_RETURN_IF_ERROR(ReadVector(r, kRoot, read_node));
  MIMI_RETURN_IF_ERROR(r.ExpectEnd(kRoot));
  if (nodes.empty()) return MalformedError(std::string(kRoot) + ": no nodes");
  if (nodes.size() % 2 == 0 || !nodes.back().present) {
    return MalformedError(std::string(kRoot) + ": does not end on a non-blank leaf (" +
                          std::to_string(nodes.size()) + " nodes)");
  }
  return nodes;
}

// RFC 9420 §4 array arithmetic: the level of a node is its count of
// trailing one bits; leaves are level 0.
int Level(size_t x) {
  int k = 0;
  while ((x >> k) & 1) ++k;
  return k;
}

class TreeHasher {
 public:
  TreeHasher(crypto::HashAlgorithm hash, const std::vector<RawNode>& nodes,
             std::vector<Bytes>* all)
      : hash_(hash), nodes_(nodes), all_(all) {}

  // TreeHashInput (§7.8) of node x, hashed.
  Result<Bytes> Hash(size_t x) {
    static const RawNode kBlank;
    const RawNode& node = x < nodes_.size() ? nodes_[x] : kBlank;
    codec::Writer w;
    const int k = Level(x);
    if (k == 0) {
      w.WriteU8(1);  // node_type leaf
      w.WriteU32(static_cast<uint32_t>(x / 2));
      w.WriteU8(node.present ? 1 : 0);  // optional<LeafNode>
      if (node.present) w.WriteRaw(node.body);
    } else {
      MIMI_ASSIGN_OR_RETURN(Bytes left, Hash(x ^ (size_t{1} << (k - 1))));
      MIMI_ASSIGN_OR_RETURN(Bytes right, Hash(x ^ (size_t{3} << (k - 1))));
      w.WriteU8(2);  // node_type parent
      w.WriteU8(node.present ? 1 : 0);  // optional<ParentNode>
      if (node.present) w.WriteRaw(node.body);
      w.WriteOpaque("ParentNodeHashInput.left_hash", left);
      w.WriteOpaque("ParentNodeHashInput.right_hash", right);
    }
    MIMI_ASSIGN_OR_RETURN(Bytes input, std::move(w).Finish());
    MIMI_ASSIGN_OR_RETURN(Bytes digest, crypto::Hash(hash_, input));
    if (all_ != nullptr) (*all_)[x] = digest;
    return digest;
  }

 private:
  const crypto::HashAlgorithm hash_;
  const std::vector<RawNode>& nodes_;
  std::vector<Bytes>* const all_;
};

// Leaves of the full tree: the array's leaf count rounded up to a power of 2.
size_t FullLeafCount(size_t node_count) {
  const size_t leaves = (node_count + 1) / 2;
  size_t width = 1;
  while (width < leaves) width <<= 1;
  return width;
}

Result<Bytes> HashTree(uint16_t cipher_suite, ByteSpan ratchet_tree,
                       std::vector<Bytes>* all) {
  MIMI_ASSIGN_OR_RETURN(crypto::CipherSuite cs, crypto::LookupCipherSuite(cipher_suite));
  MIMI_ASSIGN_OR_RETURN(std::vector<RawNode> nodes, ReadRawNodes(ratchet_tree));
  const size_t leaves = FullLeafCount(nodes.size());
  if (all != nullptr) all->assign(2 * leaves - 1, Bytes{});
  TreeHasher hasher(cs.hash, nodes, all);
  return hasher.Hash(leaves - 1);  // the root of a full tree
}

}  // namespace

Result<Bytes> RatchetTreeHash(uint16_t cipher_suite, ByteSpan ratchet_tree) {
  return HashTree(cipher_suite, ratchet_tree, nullptr);
}

Result<std::vector<Bytes>> RatchetTreeNodeHashes(uint16_t cipher_suite,
                                                 ByteSpan ratchet_tree) {
  std::vector<Bytes> all;
  MIMI_RETURN_IF_ERROR(HashTree(cipher_suite, ratchet_tree, &all).status());
  return all;
}

}  // namespace mimi::mls
