// A bounds-checked reader over TLS-presentation-language bytes as profiled by
// RFC 9420 §2.1: big-endian integers and vectors prefixed by an MLS
// variable-length integer.
//
// Every read names the field it is for ("MigrationResponse.nonce"), so that an
// error says what failed: "MigrationResponse.nonce: truncated". A failed read
// consumes nothing and leaves the output untouched. A vector length is checked
// against the remaining input before anything is allocated. The reader borrows
// its input, which must outlive it; one reader is not thread-safe.
#ifndef MIMI_CODEC_READER_H_
#define MIMI_CODEC_READER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::codec {

// The largest value an MLS varint can carry (30 bits).
inline constexpr uint64_t kMaxVarint = (uint64_t{1} << 30) - 1;

class Reader {
 public:
  explicit Reader(ByteSpan data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }

  Status ReadU8(std::string_view field, uint8_t* out);
  Status ReadU16(std::string_view field, uint16_t* out);
  Status ReadU32(std::string_view field, uint32_t* out);
  Status ReadU64(std::string_view field, uint64_t* out);
  // RFC 9420 §2.1.2: prefix 00/01/10 for 1/2/4 bytes; 11 is invalid; a value
  // that fits a shorter form is rejected as non-minimal.
  Status ReadVarint(std::string_view field, uint64_t* out);
  // opaque field<V>: a varint length, then that many bytes.
  Status ReadOpaque(std::string_view field, Bytes* out);
  // Like ReadOpaque but borrows: *out points into the reader's input.
  Status ReadOpaqueView(std::string_view field, ByteSpan* out);
  // uint8 field[N].
  template <size_t N>
  Status ReadArray(std::string_view field, std::array<uint8_t, N>* out) {
    ByteSpan view;
    MIMI_RETURN_IF_ERROR(ReadFixed(field, N, &view));
    std::copy(view.begin(), view.end(), out->begin());
    return Status::Ok();
  }
  // n raw bytes, borrowed.
  Status ReadFixed(std::string_view field, size_t n, ByteSpan* out);

  // Fails with "<what>: N trailing bytes" unless all input was consumed.
  Status ExpectEnd(std::string_view what) const;

 private:
  Status ReadBigEndian(std::string_view field, size_t n, uint64_t* out);

  ByteSpan data_;
  size_t pos_ = 0;
};

// Builds "<prefix>.<field>" for nested error paths.
std::string FieldPath(std::string_view prefix, std::string_view field);

}  // namespace mimi::codec

#endif  // MIMI_CODEC_READER_H_
