// Helpers for the RFC 9420 §2.1 shapes that codec::Reader leaves to its
// callers: vectors of structs (`T items<V>`), `optional<T>`, and capturing the
// exact bytes a struct was parsed from (signatures cover those bytes, so later
// verification must see them as sent, not as re-encoded).
//
// Free functions over a caller's Reader; as thread-safe as that reader. Unlike
// a single Reader read, a failed composite read may leave the reader advanced;
// callers return the error and drop the half-built object.
#ifndef MIMI_MLS_VECTORS_H_
#define MIMI_MLS_VECTORS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "codec/reader.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::mls {

// Reads `T items<V>`: a varint byte length, then elements back to back until
// exactly that many bytes are used. `read_one(sub_reader, element_path)` reads
// one element; element paths are "<path>[i]".
template <typename ReadOne>
Status ReadVector(codec::Reader& r, std::string_view path, ReadOne read_one) {
  ByteSpan body;
  MIMI_RETURN_IF_ERROR(r.ReadOpaqueView(path, &body));
  codec::Reader sub(body);
  for (size_t i = 0; !sub.empty(); ++i) {
    const std::string element = std::string(path) + "[" + std::to_string(i) + "]";
    MIMI_RETURN_IF_ERROR(read_one(sub, std::string_view(element)));
  }
  return Status::Ok();
}

// Reads the presence byte of `optional<T>`: 0 absent, 1 present, else error.
Status ReadPresence(codec::Reader& r, std::string_view path, bool* present);

// The bytes `r` consumed since `start` (a copy of the reader taken before).
Bytes ConsumedSince(const codec::Reader& start, const codec::Reader& now);

}  // namespace mimi::mls

#endif  // MIMI_MLS_VECTORS_H_
