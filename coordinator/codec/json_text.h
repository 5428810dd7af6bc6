// JSON text in and out: the project's only calls of nlohmann::json::parse and
// dump. Both are templates whose lexer, parser and serializer were compiled
// again in every translation unit that called them (about 14 s of CPU per unit
// under ASan for parse, 5 s for dump); behind these functions they are
// compiled once, here. Everything else uses nlohmann::json's cheap parts
// (building values, operator[], value(), get<T>()).
//
// Pure functions; thread-safe.
#ifndef MIMI_CODEC_JSON_TEXT_H_
#define MIMI_CODEC_JSON_TEXT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace mimi::codec {

// Parses `text` as one JSON value. A malformed text gives a discarded value
// (is_discarded() is true), as nlohmann::json::parse(text, nullptr, false)
// does; never throws.
nlohmann::json ParseJson(std::string_view text);

// How DumpJson treats a string that is not valid UTF-8.
enum class InvalidUtf8 {
  kThrow,    // nlohmann::json::type_error, as dump() does by default
  kReplace,  // U+FFFD in its place; never throws
};

// The JSON text of `value`: compact for indent < 0, else pretty-printed with
// `indent` spaces.
std::string DumpJson(const nlohmann::json& value, int indent = -1,
                     InvalidUtf8 invalid = InvalidUtf8::kThrow);

}  // namespace mimi::codec

#endif  // MIMI_CODEC_JSON_TEXT_H_
