#include "codec/reader.h"

#include <string>

namespace mimi::codec {
namespace {

Status Truncated(std::string_view field) {
  return MalformedError(std::string(field) + ": truncated");
}

}  // namespace

std::string FieldPath(std::string_view prefix, std::string_view field) {
  std::string out(prefix);
  out += '.';
  out += field;
  return out;
}

Status Reader::ReadBigEndian(std::string_view field, size_t n, uint64_t* out) {
  if (remaining() < n) return Truncated(field);
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v << 8 | data_[pos_ + i];
  pos_ += n;
  *out = v;
  return Status::Ok();
}

Status Reader::ReadU8(std::string_view field, uint8_t* out) {
  uint64_t v = 0;
  MIMI_RETURN_IF_ERROR(ReadBigEndian(field, 1, &v));
  *out = static_cast<uint8_t>(v);
  return Status::Ok();
}

Status Reader::ReadU16(std::string_view field, uint16_t* out) {
  uint64_t v = 0;
  MIMI_RETURN_IF_ERROR(ReadBigEndian(field, 2, &v));
  *out = static_cast<uint16_t>(v);
  return Status::Ok();
}

Status Reader::ReadU32(std::string_view field, uint32_t* out) {
  uint64_t v = 0;
  MIMI_RETURN_IF_ERROR(ReadBigEndian(field, 4, &v));
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status Reader::ReadU64(std::string_view field, uint64_t* out) {
  return ReadBigEndian(field, 8, out);
}

Status Reader::ReadVarint(std::string_view field, uint64_t* out) {
  if (empty()) return Truncated(field);
  const uint8_t prefix = data_[pos_] >> 6;
  if (prefix == 3) {
    return MalformedError(std::string(field) +
                          ": invalid varint prefix 0b11");
  }
  const size_t len = size_t{1} << prefix;  // 1, 2 or 4 bytes
  if (remaining() < len) return Truncated(field);
  uint64_t v = data_[pos_] & 0x3f;
  for (size_t i = 1; i < len; ++i) v = v << 8 | data_[pos_ + i];
  // Minimal: the value would not have fit the next shorter form.
  if ((len == 2 && v < 64) || (len == 4 && v < 16384)) {
    return MalformedError(std::string(field) + ": non-minimal varint");
  }
  pos_ += len;
  *out = v;
  return Status::Ok();
}

Status Reader::ReadFixed(std::string_view field, size_t n, ByteSpan* out) {
  if (remaining() < n) return Truncated(field);
  *out = data_.subspan(pos_, n);
  pos_ += n;
  return Status::Ok();
}

Status Reader::ReadOpaqueView(std::string_view field, ByteSpan* out) {
  const size_t start = pos_;
  uint64_t len = 0;
  MIMI_RETURN_IF_ERROR(ReadVarint(field, &len));
  if (len > remaining()) {
    const size_t left = remaining();
    pos_ = start;
    return MalformedError(std::string(field) + ": length " +
                          std::to_string(len) + " exceeds the " +
                          std::to_string(left) + " bytes left");
  }
  *out = data_.subspan(pos_, len);
  pos_ += len;
  return Status::Ok();
}

Status Reader::ReadOpaque(std::string_view field, Bytes* out) {
  ByteSpan view;
  MIMI_RETURN_IF_ERROR(ReadOpaqueView(field, &view));
  out->assign(view.begin(), view.end());
  return Status::Ok();
}

Status Reader::ExpectEnd(std::string_view what) const {
  if (empty()) return Status::Ok();
  return MalformedError(std::string(what) + ": " + std::to_string(remaining()) +
                        " trailing bytes");
}

}  // namespace mimi::codec
