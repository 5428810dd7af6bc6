// Test clients of the embedded DS's member API (/ds/v1): the one place that
// builds the headers a request needs (a client token to create a group;
// MIMI-Sender / MIMI-Epoch / MIMI-Signature for a member, see
// docs/protocol.md "Member API authentication"), and SyntheticGroup, a group
// of synthetic members whose keys the test holds, with the request bodies a
// member would send. Every C++ test and benchmark that talks to /ds/v1 goes
// through these. Not thread-safe per SyntheticGroup; the free functions are.
#ifndef MIMI_TESTING_DS_MEMBER_H_
#define MIMI_TESTING_DS_MEMBER_H_

#include <httplib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/signing_key.h"
#include "mimi_portability/bytes.h"
#include "testing/synthetic_mls.h"

namespace mimi::testing {

// Authorization: Bearer <token>, for POST /ds/v1/groups.
httplib::Headers ClientTokenHeaders(const std::string& token);

// The three member headers for a request of `method` to `path` (without the
// query) with `body`, signed by leaf `sender` at `epoch`.
httplib::Headers MemberHeaders(const crypto::SigningKey& key, uint32_t sender,
                               uint64_t epoch, std::string_view method,
                               std::string_view path, ByteSpan group_id,
                               std::string_view body);

// A commit ready to post: the body of POST .../commits and the GroupInfo of
// the epoch it starts.
struct PreparedCommit {
  Bytes commit;
  Bytes group_info;
  std::string body;
};

class SyntheticGroup {
 public:
  // `members` fresh keys of the suite's scheme, named "<name>-<i>".
  static SyntheticGroup Make(uint16_t suite, Bytes group_id, uint64_t epoch,
                             size_t members, const std::string& name = "member");

  uint16_t suite() const { return suite_; }
  const Bytes& group_id() const { return group_id_; }
  uint64_t epoch() const { return epoch_; }
  const std::vector<crypto::SigningKey>& keys() const { return keys_; }
  const std::vector<SyntheticMember>& members() const { return members_; }
  const Bytes& ratchet_tree() const { return tree_; }
  const Bytes& group_info() const { return group_info_; }
  std::string Path(std::string_view suffix = "") const;

  // {"group_info", "ratchet_tree"} for POST /ds/v1/groups.
  std::string CreateBody() const;
  // Headers of leaf `sender` for a request at the current epoch.
  httplib::Headers Headers(uint32_t sender, std::string_view method,
                           std::string_view path, std::string_view body) const;
  // A commit signed by `sender` at the current epoch (same tree; the next
  // epoch's GroupInfo signed by `sender`).
  PreparedCommit PrepareCommit(uint32_t sender, ByteSpan authenticated_data = {}) const;
  // After the DS took `commit`.
  void Advance(const PreparedCommit& commit);
  // {"message": hex} of a signed proposal from `sender`.
  std::string ProposalBody(uint32_t sender) const;

 private:
  uint16_t suite_ = 0;
  Bytes group_id_;
  uint64_t epoch_ = 0;
  std::vector<crypto::SigningKey> keys_;
  std::vector<SyntheticMember> members_;
  Bytes tree_;
  Bytes group_info_;
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_DS_MEMBER_H_
