// RFC 9420 ratchet tree as sent in the ratchet_tree extension (§12.4.3.3):
// `optional<Node> ratchet_tree<V>`, nodes in array order (leaves at even
// indexes, parents at odd ones), trailing blank nodes omitted. A Source DS
// reads it to know each member's signature key and credential.
//
// Structural checks only: node types match their positions, the array ends
// on a non-blank leaf. Tree hashes and parent hashes are not verified here.
// Plain values and pure functions; thread-safe.
#ifndef MIMI_MLS_RATCHET_TREE_H_
#define MIMI_MLS_RATCHET_TREE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/leaf_node.h"

namespace mimi::mls {

struct ParentNode {
  Bytes encryption_key;
  Bytes parent_hash;
  std::vector<uint32_t> unmerged_leaves;
};

// One non-blank node: exactly one of the two is set.
struct TreeNode {
  std::optional<LeafNode> leaf;
  std::optional<ParentNode> parent;
};

// The most nodes a ratchet tree may have here: 2^20 leaves (2^21 - 1 nodes),
// over twice the largest group the benchmarks move. A blank node is one
// byte on the wire, so without a bound a 64 MiB body would describe 2^26
// nodes, whose bookkeeping and hashing would take gigabytes and minutes.
inline constexpr size_t kMaxRatchetTreeNodes = (size_t{1} << 21) - 1;

// The refusal of a tree over kMaxRatchetTreeNodes (kInvalidArgument,
// reason "tree-too-large"), named by its field path.
Status TreeTooLargeError(std::string_view path);

// Reads one ParentNode at the reader's position and drops it: the same reads
// as decoding one, so the same errors, without the copies. For readers that
// need only where a node ends (the walk without on_parent, the tree hash).
Status SkipParentNode(codec::Reader& r, std::string_view path);

struct RatchetTree {
  std::vector<std::optional<TreeNode>> nodes;

  uint32_t leaf_count() const { return static_cast<uint32_t>((nodes.size() + 1) / 2); }
  // The member at `leaf_index`, or nullptr for a blank or absent leaf.
  const LeafNode* Leaf(uint32_t leaf_index) const;
};

Result<RatchetTree> DecodeRatchetTree(ByteSpan bytes);

// What WalkRatchetTree hands over, node by node in array order; any of the
// three may be left unset. A node is read into a scratch object that the
// callback may move from.
struct RatchetTreeVisitor {
  std::function<Status(size_t node_index)> on_blank;
  // Setting *stop ends the walk with OK: the nodes after this leaf are
  // neither read nor checked (for a tree that was checked when it came in).
  std::function<Status(uint32_t leaf_index, LeafNode& leaf, bool* stop)>
      on_leaf;
  // When unset, parents are checked and skipped without being copied.
  std::function<Status(size_t node_index, ParentNode& parent)> on_parent;
};

// Reads `bytes` by the rules and with the errors of DecodeRatchetTree (which
// is built on it) without keeping the nodes: a Delivery Service that only
// checks a tree or looks for one leaf would otherwise hold a large group's
// tree (380,000 members in a 64 MiB tree) as several hundred MiB of heap
// objects. A callback's error ends the walk and is returned.
Status WalkRatchetTree(ByteSpan bytes, const RatchetTreeVisitor& visitor);

}  // namespace mimi::mls

#endif  // MIMI_MLS_RATCHET_TREE_H_
