// SafeText: any byte string made fit for a JSON string or a log line.
//
// Request data (paths, headers, domain names from the wire) is attacker
// text: it may be invalid UTF-8, which makes nlohmann::json::dump() throw,
// or hold control characters that forge log lines. SafeText keeps printable
// ASCII and well-formed UTF-8 (no overlongs, surrogates or code points past
// U+10FFFF) and writes every other byte, and every control character, as
// the four characters \xNN. The result is valid UTF-8 without controls.
// Pure function; thread-safe.
#ifndef MIMI_CODEC_SAFE_TEXT_H_
#define MIMI_CODEC_SAFE_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace mimi::codec {

// At most `max_bytes` of the input are rendered; a longer input ends in
// "...". The default keeps whole request paths (httplib caps them at 8 KiB).
std::string SafeText(std::string_view bytes, size_t max_bytes = 8192);

}  // namespace mimi::codec

#endif  // MIMI_CODEC_SAFE_TEXT_H_
