#include "codec/writer.h"

#include "codec/reader.h"

namespace mimi::codec {

void Writer::WriteVarint(std::string_view field, uint64_t v) {
  if (v > kMaxVarint) {
    if (error_.ok()) {
      error_ = InvalidArgumentError(std::string(field) + ": length " +
                                    std::to_string(v) +
                                    " exceeds the varint range (2^30 - 1)");
    }
    return;
  }
  if (v < 64) {
    WriteU8(static_cast<uint8_t>(v));
  } else if (v < 16384) {
    WriteU16(static_cast<uint16_t>(0x4000 | v));
  } else {
    WriteU32(static_cast<uint32_t>(0x80000000u | v));
  }
}

void Writer::WriteOpaque(std::string_view field, ByteSpan bytes) {
  WriteVarint(field, bytes.size());
  WriteRaw(bytes);
}

Result<Bytes> Writer::Finish() && {
  if (!error_.ok()) return error_;
  return std::move(out_);
}

}  // namespace mimi::codec
