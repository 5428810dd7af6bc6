// Synthetic MLS: structurally valid RFC 9420 encodings (ratchet tree,
// GroupInfo, PublicMessage / PrivateMessage) built around signature keys
// that a test controls, so tests can act as members: sign MigrationInit,
// and pass the embedded DS's checks (docs/protocol.md, "Member API
// authentication"). What a DS checks is real: a GroupInfo carries the RFC
// 9420 tree hash of its tree and a GroupInfoTBS signature by a member; the
// signed PublicMessages carry a FramedContentTBS signature over the epoch's
// GroupContext. What only members could check is a placeholder: leaf node
// signatures, encryption keys, MACs, confirmation tags, ciphertexts
// (real-client interoperability is the ts-mls tests' job). The unsigned
// PublicMessage overloads are for paths that never check an MLS signature
// (a MigrationInit's migration commit). Pure functions; thread-safe.
#ifndef MIMI_TESTING_SYNTHETIC_MLS_H_
#define MIMI_TESTING_SYNTHETIC_MLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/signing_key.h"
#include "mimi_portability/bytes.h"

namespace mimi::testing {

struct SyntheticMember {
  std::string identity;
  Bytes signature_key;  // as the LeafNode carries it
};

// `optional<Node> ratchet_tree<V>` with the members as leaves 0..n-1 and
// blank parents.
Bytes SyntheticRatchetTree(uint16_t suite, const std::vector<SyntheticMember>& members);

// MLSMessage(GroupInfo) for the group at `epoch` with `ratchet_tree`: its
// tree_hash is that tree's, and it is signed by leaf `signer` with `key`.
Bytes SyntheticGroupInfo(uint16_t suite, ByteSpan group_id, uint64_t epoch,
                         ByteSpan ratchet_tree, uint32_t signer,
                         const crypto::SigningKey& key);

// Signed MLSMessage(PublicMessage) commit (no proposals, no path) from
// member `sender_leaf` in the epoch of `group_info` (an MLSMessage(GroupInfo)
// as SyntheticGroupInfo makes it), whose GroupContext the signature covers.
Bytes SyntheticSignedCommit(ByteSpan group_info, uint32_t sender_leaf,
                            ByteSpan authenticated_data, const crypto::SigningKey& key);
// The same for a proposal (Remove of leaf 0).
Bytes SyntheticSignedProposal(ByteSpan group_info, uint32_t sender_leaf,
                              ByteSpan authenticated_data, const crypto::SigningKey& key);

// MLSMessage(PublicMessage) with a commit (no proposals, no path) from
// member `sender_leaf`, with a placeholder signature.
Bytes SyntheticPublicCommit(ByteSpan group_id, uint64_t epoch, uint32_t sender_leaf,
                            ByteSpan authenticated_data);

// MLSMessage(PublicMessage) with a proposal (Remove of leaf 0) from a member,
// with a placeholder signature.
Bytes SyntheticPublicProposal(ByteSpan group_id, uint64_t epoch, uint32_t sender_leaf,
                              ByteSpan authenticated_data);

// MLSMessage(PrivateMessage); content_type 1 application, 2 proposal, 3 commit.
Bytes SyntheticPrivateMessage(ByteSpan group_id, uint64_t epoch, uint8_t content_type,
                              ByteSpan authenticated_data);

}  // namespace mimi::testing

#endif  // MIMI_TESTING_SYNTHETIC_MLS_H_
