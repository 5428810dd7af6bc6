// Synthetic MLS: structurally valid RFC 9420 encodings (ratchet tree,
// GroupInfo, PublicMessage / PrivateMessage) built around signature keys
// that a test controls, so protocol tests can sign MigrationInit as a member
// would. The MLS signatures, MACs and ciphertexts inside are placeholders: a
// DS never checks them, and real-client interoperability is covered by the
// ts-mls tests. Pure functions; thread-safe.
#ifndef MIMI_TESTING_SYNTHETIC_MLS_H_
#define MIMI_TESTING_SYNTHETIC_MLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mimi_portability/bytes.h"

namespace mimi::testing {

struct SyntheticMember {
  std::string identity;
  Bytes signature_key;  // as the LeafNode carries it
};

// `optional<Node> ratchet_tree<V>` with the members as leaves 0..n-1 and
// blank parents.
Bytes SyntheticRatchetTree(uint16_t suite, const std::vector<SyntheticMember>& members);

// MLSMessage(GroupInfo) for the group at `epoch`.
Bytes SyntheticGroupInfo(uint16_t suite, ByteSpan group_id, uint64_t epoch);

// MLSMessage(PublicMessage) with a commit (no proposals, no path) from
// member `sender_leaf`.
Bytes SyntheticPublicCommit(ByteSpan group_id, uint64_t epoch, uint32_t sender_leaf,
                            ByteSpan authenticated_data);

// MLSMessage(PublicMessage) with a proposal (Remove of leaf 0) from a member.
Bytes SyntheticPublicProposal(ByteSpan group_id, uint64_t epoch, uint32_t sender_leaf,
                              ByteSpan authenticated_data);

// MLSMessage(PrivateMessage); content_type 1 application, 2 proposal, 3 commit.
Bytes SyntheticPrivateMessage(ByteSpan group_id, uint64_t epoch, uint8_t content_type,
                              ByteSpan authenticated_data);

}  // namespace mimi::testing

#endif  // MIMI_TESTING_SYNTHETIC_MLS_H_
