// What the embedded DS reads from ratchet trees and GroupInfos, through the
// one ratchet-tree reader (mls::WalkRatchetTree, which keeps no nodes: a
// large group's tree is tens of MiB): that a tree is well formed, a member's
// signature key, the member count, and that a GroupInfo names its tree and
// is signed by one of its members.
//
// Pure functions; thread-safe.
#ifndef MIMI_EMBEDDED_DS_TREE_CHECKS_H_
#define MIMI_EMBEDDED_DS_TREE_CHECKS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/group_info.h"

namespace mimi::embedded_ds {

// The tree reader's verdict on the whole tree (a well-formed tree ends on a
// member's leaf, so it has one).
Status CheckTree(ByteSpan tree);

// The signature key of the member at `leaf`, or nullopt for a blank or
// absent leaf. The walk stops at that leaf: `tree` was checked when it came
// in.
Result<std::optional<Bytes>> FindLeafSignatureKey(ByteSpan tree, uint32_t leaf);

// The same, refused with kPermissionDenied "not-a-member" (named by `whose`)
// when there is no member at `leaf`.
Result<Bytes> LeafSignatureKey(ByteSpan tree, uint32_t leaf,
                               std::string_view whose);

// The members of a stored tree; a tree that does not read counts as far as
// it reads.
uint32_t CountMembers(ByteSpan tree);

// A GroupInfo (MLSMessage) handed in with `tree` (at create, or for the
// epoch a commit starts): it names this tree (tree-hash-mismatch), and a
// member of this tree signed it (bad-signature). The caller checks group id,
// suite and epoch against its own state.
Result<mls::GroupInfo> CheckGroupInfo(ByteSpan group_info_message,
                                      ByteSpan tree);

}  // namespace mimi::embedded_ds

#endif  // MIMI_EMBEDDED_DS_TREE_CHECKS_H_
