// The RFC 9420 §7.8 tree hash of a ratchet tree as the ratchet_tree
// extension carries it (`optional<Node> ratchet_tree<V>`, trailing blanks
// omitted). A DS compares it with a GroupInfo's group_context.tree_hash to
// know that the tree it is handed is the one the group's members agreed on.
//
// The tree is read with the structural rules of DecodeRatchetTree and hashed
// over the LeafNode and ParentNode bytes exactly as received (a re-encoding
// could differ from what members hashed). The tree is widened with blank
// nodes to its full size (a power of two leaves), as RFC 9420 §7 defines it.
// Memory beyond the input is O(number of nodes) spans, not copies; the
// recursion is as deep as the tree (at most 32 levels).
//
// Pure functions; thread-safe.
#ifndef MIMI_MLS_TREE_HASH_H_
#define MIMI_MLS_TREE_HASH_H_

#include <cstdint>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::mls {

// The root's tree hash with the hash of `cipher_suite` (kUnsupported for a
// suite outside 1..7; kMalformed for a tree that does not decode).
Result<Bytes> RatchetTreeHash(uint16_t cipher_suite, ByteSpan ratchet_tree);

// The tree hash of every node of the full tree, by node index (what the
// official tree-validation vectors list).
Result<std::vector<Bytes>> RatchetTreeNodeHashes(uint16_t cipher_suite,
                                                 ByteSpan ratchet_tree);

}  // namespace mimi::mls

#endif  // MIMI_MLS_TREE_HASH_H_
