#include "mls/group_info.h"

#include "codec/reader.h"
#include "mls/vectors.h"

namespace mimi::mls {
namespace {

constexpr char kPath[] = "MLSMessage.group_info";

Status ReadGroupContext(codec::Reader& r, std::string_view p, GroupContext* c) {
  MIMI_RETURN_IF_ERROR(r.ReadU16(codec::FieldPath(p, "version"), &c->version));
  if (c->version != 1) {
    return UnsupportedError(codec::FieldPath(p, "version") + ": " +
                            std::to_string(c->version) + " is not mls10");
  }
  MIMI_RETURN_IF_ERROR(
      r.ReadU16(codec::FieldPath(p, "cipher_suite"), &c->cipher_suite));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(codec::FieldPath(p, "group_id"), &c->group_id));
  MIMI_RETURN_IF_ERROR(r.ReadU64(codec::FieldPath(p, "epoch"), &c->epoch));
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque(codec::FieldPath(p, "tree_hash"), &c->tree_hash));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(codec::FieldPath(p, "confirmed_transcript_hash"),
                                    &c->confirmed_transcript_hash));
  return ReadExtensions(r, codec::FieldPath(p, "extensions"), &c->extensions);
}

}  // namespace

std::optional<Bytes> GroupInfo::RatchetTreeExtension() const {
  for (const Extension& e : extensions) {
    if (e.type == kRatchetTreeExtensionType) return e.data;
  }
  return std::nullopt;
}

namespace {

Result<GroupInfo> ReadGroupInfo(codec::Reader& r, std::string_view path,
                                std::string_view outer) {
  GroupInfo g;
  const codec::Reader start = r;
  MIMI_RETURN_IF_ERROR(ReadGroupContext(
      r, codec::FieldPath(path, "group_context"), &g.group_context));
  g.group_context_bytes = ConsumedSince(start, r);
  MIMI_RETURN_IF_ERROR(
      ReadExtensions(r, codec::FieldPath(path, "extensions"), &g.extensions));
  MIMI_RETURN_IF_ERROR(r.ReadOpaque(codec::FieldPath(path, "confirmation_tag"),
                                    &g.confirmation_tag));
  MIMI_RETURN_IF_ERROR(r.ReadU32(codec::FieldPath(path, "signer"), &g.signer));
  g.signed_fields = ConsumedSince(start, r);
  MIMI_RETURN_IF_ERROR(
      r.ReadOpaque(codec::FieldPath(path, "signature"), &g.signature));
  MIMI_RETURN_IF_ERROR(r.ExpectEnd(outer));
  return g;
}

}  // namespace

Result<GroupInfo> DecodeGroupInfo(ByteSpan bytes) {
  codec::Reader r(bytes);
  return ReadGroupInfo(r, "GroupInfo", "GroupInfo");
}

Result<GroupInfo> DecodeGroupInfoMessage(ByteSpan bytes) {
  codec::Reader r(bytes);
  uint16_t version = 0, wire_format = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU16("MLSMessage.version", &version));
  if (version != 1) {
    return UnsupportedError("MLSMessage.version: " + std::to_string(version) +
                            " is not mls10");
  }
  MIMI_RETURN_IF_ERROR(r.ReadU16("MLSMessage.wire_format", &wire_format));
  if (wire_format != 4) {
    return InvalidArgumentError("MLSMessage.wire_format: " +
                                std::to_string(wire_format) +
                                " where mls_group_info (4) was expected");
  }
  return ReadGroupInfo(r, kPath, "MLSMessage");
}

}  // namespace mimi::mls
