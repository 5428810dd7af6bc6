#include "mls/vectors.h"

namespace mimi::mls {

Status ReadPresence(codec::Reader& r, std::string_view path, bool* present) {
  uint8_t flag = 0;
  MIMI_RETURN_IF_ERROR(r.ReadU8(path, &flag));
  if (flag > 1) {
    return MalformedError(std::string(path) + ": optional presence byte " +
                          std::to_string(flag) + " is neither 0 nor 1");
  }
  *present = flag == 1;
  return Status::Ok();
}

Bytes ConsumedSince(const codec::Reader& start, const codec::Reader& now) {
  // Re-reading through a copy keeps this within Reader's public interface.
  codec::Reader copy = start;
  ByteSpan span;
  const size_t n = now.position() - start.position();
  if (!copy.ReadFixed("consumed", n, &span).ok()) return {};
  return Bytes(span.begin(), span.end());
}

}  // namespace mimi::mls
