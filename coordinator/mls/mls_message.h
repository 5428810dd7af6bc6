// A strict reader of RFC 9420 MLSMessage framing (§6), without decryption:
// what a Delivery Service can see of a handshake or application message.
//
// PublicMessage is parsed whole (FramedContent with its proposal or commit
// body, FramedContentAuthData, membership_tag), so that trailing bytes are
// caught and the signature and the exact FramedContent bytes are at hand for
// verification. PrivateMessage yields its clear header (group_id, epoch,
// content_type, authenticated_data) and the two ciphertexts. Welcome,
// GroupInfo and KeyPackage messages are recognised and refused as
// kUnsupported with the wire format named; they are not misread as others.
// Errors name the field: "MLSMessage.public_message.content.epoch: truncated".
//
// Plain values and pure functions; thread-safe.
#ifndef MIMI_MLS_MLS_MESSAGE_H_
#define MIMI_MLS_MLS_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/commit.h"
#include "mls/proposal.h"

namespace mimi::mls {

inline constexpr uint16_t kProtocolVersionMls10 = 1;

enum class WireFormat : uint16_t {
  kPublicMessage = 1,
  kPrivateMessage = 2,
  kWelcome = 3,
  kGroupInfo = 4,
  kKeyPackage = 5,
};
// RFC 9420's names ("mls_public_message"...); "unknown" outside 1..5.
std::string_view WireFormatName(uint16_t wire_format);

enum class ContentType : uint8_t { kApplication = 1, kProposal = 2, kCommit = 3 };
std::string_view ContentTypeName(ContentType type);

enum class SenderType : uint8_t {
  kMember = 1,
  kExternal = 2,
  kNewMemberProposal = 3,
  kNewMemberCommit = 4,
};
std::string_view SenderTypeName(SenderType type);

struct Sender {
  SenderType type = SenderType::kMember;
  // The leaf index for kMember, the external sender index for kExternal;
  // 0 and meaningless otherwise.
  uint32_t index = 0;
};

struct PublicMessage {
  // FramedContent
  Bytes group_id;
  uint64_t epoch = 0;
  Sender sender;
  Bytes authenticated_data;
  ContentType content_type = ContentType::kCommit;
  std::optional<Proposal> proposal;  // content_type kProposal
  std::optional<Commit> commit;      // content_type kCommit
  // The FramedContent exactly as received; FramedContentTBS is
  // version || wire_format || these bytes || (GroupContext for members).
  Bytes framed_content;
  // FramedContentAuthData
  Bytes signature;
  Bytes confirmation_tag;  // commits only
  Bytes membership_tag;    // member senders only
};

struct PrivateMessage {
  Bytes group_id;
  uint64_t epoch = 0;
  ContentType content_type = ContentType::kApplication;
  Bytes authenticated_data;
  Bytes encrypted_sender_data;
  Bytes ciphertext;
};

struct MlsMessage {
  uint16_t version = kProtocolVersionMls10;
  WireFormat wire_format = WireFormat::kPublicMessage;
  std::optional<PublicMessage> public_message;    // kPublicMessage
  std::optional<PrivateMessage> private_message;  // kPrivateMessage

  // The clear header fields, whichever the wire format.
  const Bytes& group_id() const;
  uint64_t epoch() const;
  ContentType content_type() const;
  const Bytes& authenticated_data() const;
  // Known only for a PublicMessage from a member; a PrivateMessage hides it.
  std::optional<uint32_t> sender_leaf_index() const;
};

// Decodes exactly one MLSMessage carrying a PublicMessage or PrivateMessage.
// kMalformed for bad bytes, kUnsupported for another version or wire format,
// kInvalidArgument for an application message sent as PublicMessage (§6.2).
Result<MlsMessage> DecodeMlsMessage(ByteSpan bytes);

}  // namespace mimi::mls

#endif  // MIMI_MLS_MLS_MESSAGE_H_
