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

// One present node at `index`, handed to the visitor.
Status ReadNode(Reader& r, std::string_view path, size_t index,
                const RatchetTreeVisitor& visitor, bool* stop) {
  const std::string type_field = FieldPath(path, "node_type");
  uint8_t type = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU8(type_field, &type));
  const bool leaf_position = index % 2 == 0;
  if (type == 1 && leaf_position) {
    LeafNode leaf;
    MIMI_RETURN_IF_ERROR(ReadLeafNode(r, FieldPath(path, "leaf_node"), &leaf));
    if (!visitor.on_leaf) return Status::Ok();
    return visitor.on_leaf(static_cast<uint32_t>(index / 2), leaf, stop);
  }
  if (type == 2 && !leaf_position) {
    const std::string parent_path = FieldPath(path, "parent_node");
    if (!visitor.on_parent) return SkipParentNode(r, parent_path);
    ParentNode parent;
    MIMI_RETURN_IF_ERROR(ReadParentNode(r, parent_path, &parent));
    return visitor.on_parent(index, parent);
  }
  if (type == 1 || type == 2) {
    return MalformedError(type_field + ": a " + (type == 1 ? "leaf" : "parent") +
                          " at node index " + std::to_string(index) + ", where a " +
                          (leaf_position ? "leaf" : "parent") + " belongs");
  }
  return MalformedError(type_field + ": invalid node type " + std::to_string(type));
}

}  // namespace

Status SkipParentNode(Reader& r, std::string_view path) {
  ByteSpan skipped;
  MIMI_RETURN_IF_ERROR(r.ReadOpaqueView(FieldPath(path, "encryption_key"), &skipped));
  MIMI_RETURN_IF_ERROR(r.ReadOpaqueView(FieldPath(path, "parent_hash"), &skipped));
  return ReadVector(r, FieldPath(path, "unmerged_leaves"),
                    [](Reader& sub, std::string_view element) {
                      uint32_t leaf = 0;
                      return sub.ReadU32(element, &leaf);
                    });
}

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

Status WalkRatchetTree(ByteSpan bytes, const RatchetTreeVisitor& visitor) {
  Reader r(bytes);
  size_t count = 0;
  bool last_present = false;
  bool stop = false;
  auto read_node = [&](Reader& sub, std::string_view element) -> Status {
    if (stop) {  // ends ReadVector's loop: the rest is not looked at
      sub = Reader(ByteSpan());
      return Status::Ok();
    }
    if (count == kMaxRatchetTreeNodes) return TreeTooLargeError(kRoot);
    const size_t index = count++;
    MIMI_RETURN_IF_ERROR(ReadPresence(sub, element, &last_present));
    if (last_present) return ReadNode(sub, element, index, visitor, &stop);
    return visitor.on_blank ? visitor.on_blank(index) : Status::Ok();
  };
  MIMI_RETURN_IF_ERROR(ReadVector(r, kRoot, read_node));
  if (stop) return Status::Ok();
  MIMI_RETURN_IF_ERROR(r.ExpectEnd(kRoot));
  if (count == 0) return MalformedError(std::string(kRoot) + ": no nodes");
  // Trailing blanks are stripped by the sender, so the array ends on the
  // rightmost member's leaf.
  if (count % 2 == 0 || !last_present) {
    return MalformedError(std::string(kRoot) + ": does not end on a non-blank leaf (" +
                          std::to_string(count) + " nodes)");
  }
  return Status::Ok();
}

Result<RatchetTree> DecodeRatchetTree(ByteSpan bytes) {
  RatchetTree tree;
  RatchetTreeVisitor keep;
  keep.on_blank = [&tree](size_t) {
    tree.nodes.emplace_back();
    return Status::Ok();
  };
  keep.on_leaf = [&tree](uint32_t, LeafNode& leaf, bool*) {
    tree.nodes.emplace_back(TreeNode{std::move(leaf), std::nullopt});
    return Status::Ok();
  };
  keep.on_parent = [&tree](size_t, ParentNode& parent) {
    tree.nodes.emplace_back(TreeNode{std::nullopt, std::move(parent)});
    return Status::Ok();
  };
  MIMI_RETURN_IF_ERROR(WalkRatchetTree(bytes, keep));
  return tree;
}

}  // namespace mimi::mls
