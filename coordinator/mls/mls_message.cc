#include "mls/mls_message.h"

#include <string>

#include "codec/reader.h"
#include "mls/vectors.h"

namespace mimi::mls {
namespace {

using codec::FieldPath;
using codec::Reader;

constexpr std::string_view kRoot = "MLSMessage";

Status ReadContentType(Reader& r, const std::string& field, ContentType* out) {
  uint8_t v = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU8(field, &v));
  if (v < 1 || v > 3) {
    return MalformedError(field + ": invalid content type " + std::to_string(v));
  }
  *out = static_cast<ContentType>(v);
  return Status::Ok();
}

Status ReadSender(Reader& r, const std::string& path, Sender* out) {
  const std::string type_field = FieldPath(path, "sender_type");
  uint8_t type = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU8(type_field, &type));
  if (type < 1 || type > 4) {
    return MalformedError(type_field + ": invalid sender type " + std::to_string(type));
  }
  out->type = static_cast<SenderType>(type);
  if (out->type == SenderType::kMember) {
    return r.ReadU32(FieldPath(path, "leaf_index"), &out->index);
  }
  if (out->type == SenderType::kExternal) {
    return r.ReadU32(FieldPath(path, "sender_index"), &out->index);
  }
  return Status::Ok();
}

Status ReadFramedContent(Reader& r, const std::string& path, PublicMessage* out) {
  const Reader start = r;
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "group_id"), &out->group_id));
  MIMI_RETURN_IF_ERROR(r.ReadU64(FieldPath(path, "epoch"), &out->epoch));
  MIMI_RETURN_IF_ERROR(ReadSender(r, FieldPath(path, "sender"), &out->sender));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque(FieldPath(path, "authenticated_data"), &out->authenticated_data));
  const std::string type_field = FieldPath(path, "content_type");
  MIMI_RETURN_IF_ERROR(ReadContentType(r, type_field, &out->content_type));
  switch (out->content_type) {
    case ContentType::kApplication:
      // Its body would parse, but RFC 9420 §6.2 forbids sending it in clear.
      return InvalidArgumentError(
          type_field + ": application data must travel as a PrivateMessage");
    case ContentType::kProposal:
      out->proposal.emplace();
      MIMI_RETURN_IF_ERROR(ReadProposal(r, FieldPath(path, "proposal"), &*out->proposal));
      break;
    case ContentType::kCommit:
      out->commit.emplace();
      MIMI_RETURN_IF_ERROR(ReadCommit(r, FieldPath(path, "commit"), &*out->commit));
      break;
  }
  out->framed_content = ConsumedSince(start, r);
  return Status::Ok();
}

Status ReadPublicMessage(Reader& r, PublicMessage* out) {
  const std::string path = FieldPath(kRoot, "public_message");
  MIMI_RETURN_IF_ERROR(ReadFramedContent(r, FieldPath(path, "content"), out));
  const std::string auth = FieldPath(path, "auth");
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(auth, "signature"), &out->signature));
  if (out->content_type == ContentType::kCommit) {
    MIMI_RETURN_IF_ERROR(
        r.ReadOpaque(FieldPath(auth, "confirmation_tag"), &out->confirmation_tag));
  }
  if (out->sender.type == SenderType::kMember) {
    MIMI_RETURN_IF_ERROR(
        r.ReadOpaque(FieldPath(path, "membership_tag"), &out->membership_tag));
  }
  return Status::Ok();
}

Status ReadPrivateMessage(Reader& r, PrivateMessage* out) {
  const std::string path = FieldPath(kRoot, "private_message");
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "group_id"), &out->group_id));
  MIMI_RETURN_IF_ERROR(r.ReadU64(FieldPath(path, "epoch"), &out->epoch));
  // Unlike FramedContent, content_type precedes authenticated_data here.
  MIMI_RETURN_IF_ERROR(
      ReadContentType(r, FieldPath(path, "content_type"), &out->content_type));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque(FieldPath(path, "authenticated_data"), &out->authenticated_data));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(FieldPath(path, "encrypted_sender_data"),
                                    &out->encrypted_sender_data));
  return r.ReadOpaque(FieldPath(path, "ciphertext"), &out->ciphertext);
}

}  // namespace

std::string_view WireFormatName(uint16_t wire_format) {
  switch (wire_format) {
    case 1:
      return "mls_public_message";
    case 2:
      return "mls_private_message";
    case 3:
      return "mls_welcome";
    case 4:
      return "mls_group_info";
    case 5:
      return "mls_key_package";
    default:
      return "unknown";
  }
}

std::string_view ContentTypeName(ContentType type) {
  switch (type) {
    case ContentType::kApplication:
      return "application";
    case ContentType::kProposal:
      return "proposal";
    case ContentType::kCommit:
      return "commit";
  }
  return "unknown";
}

std::string_view SenderTypeName(SenderType type) {
  switch (type) {
    case SenderType::kMember:
      return "member";
    case SenderType::kExternal:
      return "external";
    case SenderType::kNewMemberProposal:
      return "new_member_proposal";
    case SenderType::kNewMemberCommit:
      return "new_member_commit";
  }
  return "unknown";
}

const Bytes& MlsMessage::group_id() const {
  return public_message ? public_message->group_id : private_message->group_id;
}

uint64_t MlsMessage::epoch() const {
  return public_message ? public_message->epoch : private_message->epoch;
}

ContentType MlsMessage::content_type() const {
  return public_message ? public_message->content_type : private_message->content_type;
}

const Bytes& MlsMessage::authenticated_data() const {
  return public_message ? public_message->authenticated_data
                        : private_message->authenticated_data;
}

std::optional<uint32_t> MlsMessage::sender_leaf_index() const {
  if (public_message && public_message->sender.type == SenderType::kMember) {
    return public_message->sender.index;
  }
  return std::nullopt;
}

Result<MlsMessage> DecodeMlsMessage(ByteSpan bytes) {
  Reader r(bytes);
  MlsMessage msg;
  const std::string version_field = FieldPath(kRoot, "version");
  MIMI_RETURN_IF_ERROR(r.ReadU16(version_field, &msg.version));
  if (msg.version != kProtocolVersionMls10) {
    return UnsupportedError(version_field + ": protocol version " +
                            std::to_string(msg.version) + " is not mls10 (1)");
  }
  const std::string wire_field = FieldPath(kRoot, "wire_format");
  uint16_t wire_format = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU16(wire_field, &wire_format));
  switch (wire_format) {
    case 1:
      msg.wire_format = WireFormat::kPublicMessage;
      msg.public_message.emplace();
      MIMI_RETURN_IF_ERROR(ReadPublicMessage(r, &*msg.public_message));
      break;
    case 2:
      msg.wire_format = WireFormat::kPrivateMessage;
      msg.private_message.emplace();
      MIMI_RETURN_IF_ERROR(ReadPrivateMessage(r, &*msg.private_message));
      break;
    case 3:
    case 4:
    case 5:
      return UnsupportedError(wire_field + ": " + std::string(WireFormatName(wire_format)) +
                              " is not a group message (expected mls_public_message "
                              "or mls_private_message)");
    default:
      return UnsupportedError(wire_field + ": unknown wire format " +
                              std::to_string(wire_format));
  }
  MIMI_RETURN_IF_ERROR(r.ExpectEnd(kRoot));
  return msg;
}

}  // namespace mimi::mls
