// Byte strings and their hex form.
//
// Bytes owns, ByteSpan borrows. The functions here are pure and thread-safe.
#ifndef MIMI_PORTABILITY_BYTES_H_
#define MIMI_PORTABILITY_BYTES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mimi_portability/status.h"

namespace mimi {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

// Lowercase hex, two digits per byte.
std::string ToHex(ByteSpan bytes);
// Accepts upper and lower case and ignores ASCII white space, so that hex
// pasted from captures and RFCs decodes as is; an odd digit count is an error.
Result<Bytes> FromHex(std::string_view hex);

inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string ToString(ByteSpan b) { return std::string(b.begin(), b.end()); }

}  // namespace mimi

#endif  // MIMI_PORTABILITY_BYTES_H_
