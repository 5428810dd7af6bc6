// RFC 9420 Commit (§12.4) with its optional UpdatePath (§7.6), read
// structurally. The UpdatePath's LeafNode is the committer's new leaf, whose
// signature key a Delivery Service tracks after the commit is applied.
//
// Pure; thread-safe.
#ifndef MIMI_MLS_COMMIT_H_
#define MIMI_MLS_COMMIT_H_

#include <optional>
#include <string_view>
#include <vector>

#include "codec/reader.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/leaf_node.h"
#include "mls/proposal.h"

namespace mimi::mls {

struct HpkeCiphertext {
  Bytes kem_output;
  Bytes ciphertext;
};

struct UpdatePathNode {
  Bytes encryption_key;
  std::vector<HpkeCiphertext> encrypted_path_secret;
};

struct UpdatePath {
  LeafNode leaf_node;
  std::vector<UpdatePathNode> nodes;
};

struct Commit {
  std::vector<ProposalOrRef> proposals;
  std::optional<UpdatePath> path;
};

Status ReadCommit(codec::Reader& r, std::string_view path, Commit* out);

}  // namespace mimi::mls

#endif  // MIMI_MLS_COMMIT_H_
