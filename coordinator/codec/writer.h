// A writer for TLS-presentation-language bytes as profiled by RFC 9420 §2.1,
// the mirror of codec::Reader.
//
// Writes cannot fail one by one; a vector longer than an MLS varint can
// describe (2^30 - 1 bytes) marks the writer failed, and Finish() reports the
// first such field. One writer is not thread-safe.
#ifndef MIMI_CODEC_WRITER_H_
#define MIMI_CODEC_WRITER_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::codec {

class Writer {
 public:
  Writer() = default;

  void WriteU8(uint8_t v) { out_.push_back(v); }
  void WriteU16(uint16_t v) { WriteBigEndian(v, 2); }
  void WriteU32(uint32_t v) { WriteBigEndian(v, 4); }
  void WriteU64(uint64_t v) { WriteBigEndian(v, 8); }
  // Minimal MLS varint; values above 2^30 - 1 fail the writer.
  void WriteVarint(std::string_view field, uint64_t v);
  void WriteOpaque(std::string_view field, ByteSpan bytes);
  template <size_t N>
  void WriteArray(const std::array<uint8_t, N>& a) {
    out_.insert(out_.end(), a.begin(), a.end());
  }
  void WriteRaw(ByteSpan bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
  }

  // Appends n zero bytes and returns them, to be filled by the caller
  // before the next write (a large field read straight from storage).
  std::span<uint8_t> WriteSpace(size_t n) {
    out_.resize(out_.size() + n);
    return std::span<uint8_t>(out_).last(n);
  }

  // Reserves room for n more bytes (large group states).
  void Reserve(size_t n) { out_.reserve(out_.size() + n); }

  // The bytes written, or the error of the first field that could not be.
  Result<Bytes> Finish() &&;

 private:
  void WriteBigEndian(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }

  Bytes out_;
  Status error_;
};

}  // namespace mimi::codec

#endif  // MIMI_CODEC_WRITER_H_
