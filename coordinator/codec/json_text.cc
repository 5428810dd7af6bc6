#include "codec/json_text.h"

namespace mimi::codec {

nlohmann::json ParseJson(std::string_view text) {
  return nlohmann::json::parse(text.begin(), text.end(), nullptr,
                               /*allow_exceptions=*/false);
}

std::string DumpJson(const nlohmann::json& value, int indent,
                     InvalidUtf8 invalid) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false,
                    invalid == InvalidUtf8::kReplace
                        ? nlohmann::json::error_handler_t::replace
                        : nlohmann::json::error_handler_t::strict);
}

}  // namespace mimi::codec
