#include "mls/ratchet_tree.h"

#include <string>

#include "codec/reader.h"
#include "mls/vectors.h"

namespace mimi::mls {
namespace {

using codec::FieldPath;
using codec::Reader;

constexpr std::string_view kRoot = "ratchet_tree";

Status ReadParentNode(Reader& r, std::string_view path, ParentNode* out) {
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque(FieldPath(path, "encryption_key"), &out->encryption_key));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "parent_hash"), &out->parent_hash));
  return ReadVector(r, FieldPath(path, "unmerged_leaves"),
                    [out](Reader& sub, std::string_view element) {
                      uint32_t leaf = 0;
                      MIMI_RETURN_IF_ERROR(sub.ReadU32(element, &leaf));
                      out->unmerged_leaves.push_back(leaf);
                      return Status::Ok();
                    });
}

Status ReadNode(Reader& r, std::string_view path, size_t index, TreeNode* out) {
  const std::string type_field = FieldPath(path, "node_type");
  uint8_t type = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU8(type_field, &type));
  const bool leaf_position = index % 2 == 0;
  if (type == 1 && leaf_position) {
    out->leaf.emplace();
    return ReadLeafNode(r, FieldPath(path, "leaf_node"), &*out->leaf);
  }
  if (type == 2 && !leaf_position) {
    out->parent.emplace();
    return ReadParentNode(r, FieldPath(path, "parent_node"), &*out->parent);
  }
  if (type == 1 || type == 2) {
    return MalformedError(type_field + ": a " + (type == 1 ? "leaf" : "parent") +
                          " at node index " + std::to_string(index) + ", where a " +
                          (leaf_position ? "leaf" : "parent") + " belongs");
  }
  return MalformedError(type_field + ": invalid node type " + std::to_string(type));
}

}  // namespace

Status TreeTooLargeError(std::string_view path) {
  return Status(StatusCode::kInvalidArgument, "tree-too-large",
                std::string(path) + ": more than " +
                    std::to_string(kMaxRatchetTreeNodes) + " nodes");
}

const LeafNode* RatchetTree::Leaf(uint32_t leaf_index) const {
  const size_t node = size_t{leaf_index} * 2;
  if (node >= nodes.size() || !nodes[node]) return nullptr;
  return &*nodes[node]->leaf;
}

Result<RatchetTree> DecodeRatchetTree(ByteSpan bytes) {
  Reader r(bytes);
  RatchetTree tree;
  auto read_node = [&tree](Reader& sub, std::string_view element) {
    if (tree.nodes.size() == kMaxRatchetTreeNodes) return TreeTooLargeError(kRoot);
    bool present = false;
    MIMI_RETURN_IF_ERROR(ReadPresence(sub, element, &present));
    std::optional<TreeNode> node;
    if (present) {
      node.emplace();
      MIMI_RETURN_IF_ERROR(ReadNode(sub, element, tree.nodes.size(), &*node));
    }
    tree.nodes.push_back(std::move(node));
    return Status::Ok();
  };
  MIMI_RETURN_IF_ERROR(ReadVector(r, kRoot, read_node));
  MIMI_RETURN_IF_ERROR(r.ExpectEnd(kRoot));
  if (tree.nodes.empty()) return MalformedError(std::string(kRoot) + ": no nodes");
  // Trailing blanks are stripped by the sender, so the array ends on the
  // rightmost member's leaf.
  if (tree.nodes.size() % 2 == 0 || !tree.nodes.back()) {
    return MalformedError(std::string(kRoot) + ": does not end on a non-blank leaf (" +
                          std::to_string(tree.nodes.size()) + " nodes)");
  }
  return tree;
}

}  // namespace mimi::mls
