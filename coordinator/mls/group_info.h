// RFC 9420 GroupInfo (§12.4.3) and GroupContext (§8.1), read strictly from
// an MLSMessage with wire_format mls_group_info, which is how clients hand a
// group to a DS. The DS learns the group's suite, id and epoch from it, and
// the ratchet tree when the ratchet_tree extension (type 2) is present. The
// signature is carried, not verified here (mls/signature_checks.h does), so
// the exact bytes it covers are kept. Plain values; thread-safe.
#ifndef MIMI_MLS_GROUP_INFO_H_
#define MIMI_MLS_GROUP_INFO_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/leaf_node.h"

namespace mimi::mls {

inline constexpr uint16_t kRatchetTreeExtensionType = 2;

struct GroupContext {
  uint16_t version = 1;
  uint16_t cipher_suite = 0;
  Bytes group_id;
  uint64_t epoch = 0;
  Bytes tree_hash;
  Bytes confirmed_transcript_hash;
  std::vector<Extension> extensions;
};

struct GroupInfo {
  GroupContext group_context;
  std::vector<Extension> extensions;
  Bytes confirmation_tag;
  uint32_t signer = 0;
  Bytes signature;
  // The serialized GroupContext exactly as received (FramedContentTBS of
  // this epoch's member messages ends with it).
  Bytes group_context_bytes;
  // The fields before `signature` as received: GroupInfoTBS.
  Bytes signed_fields;

  // The ratchet_tree extension's data, if the GroupInfo carries one.
  std::optional<Bytes> RatchetTreeExtension() const;
};

// Decodes a bare GroupInfo struct.
Result<GroupInfo> DecodeGroupInfo(ByteSpan bytes);
// Decodes an MLSMessage(GroupInfo); any other wire format is refused.
Result<GroupInfo> DecodeGroupInfoMessage(ByteSpan bytes);

}  // namespace mimi::mls

#endif  // MIMI_MLS_GROUP_INFO_H_
