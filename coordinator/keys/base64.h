// Base64 (RFC 4648 §4, standard alphabet, with padding) for the public keys
// in the key document.
//
// Decoding is strict: only the standard alphabet, padding exactly where it
// belongs, no white space, and the unused low bits of the last character
// must be zero, so that every byte string has exactly one accepted text.
// Pure functions; thread-safe.
#ifndef MIMI_KEYS_BASE64_H_
#define MIMI_KEYS_BASE64_H_

#include <string>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::keys {

std::string Base64Encode(ByteSpan data);
// kMalformed, naming `field`, on any deviation from the canonical form.
Result<Bytes> Base64Decode(std::string_view text, std::string_view field);

}  // namespace mimi::keys

#endif  // MIMI_KEYS_BASE64_H_
