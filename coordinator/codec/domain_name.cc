#include "mimi_portability/domain_name.h"

#include <string>

#include "codec/safe_text.h"

namespace mimi {
namespace {

bool IsLetterOrDigit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

}  // namespace

Status ValidateDomainName(std::string_view domain, std::string_view what) {
  auto bad = [&](const char* why) {
    return Status(StatusCode::kInvalidArgument, std::string(kInvalidDomainReason),
                  std::string(what) + ": \"" + codec::SafeText(domain, 64) +
                      "\": " + why);
  };
  if (domain.empty() || domain.size() > 253) return bad("length not 1-253");
  size_t label_len = 0;
  char prev = '.';
  for (char c : domain) {
    if (c == '.') {
      if (label_len == 0) return bad("empty label");
      if (prev == '-') return bad("label ends with a hyphen");
      label_len = 0;
    } else if (IsLetterOrDigit(c) || c == '-') {
      if (c == '-' && label_len == 0) return bad("label starts with a hyphen");
      if (++label_len > 63) return bad("label longer than 63");
    } else {
      return bad("character outside ASCII letters, digits, '-' and '.'");
    }
    prev = c;
  }
  if (label_len == 0) return bad("empty label");
  if (prev == '-') return bad("label ends with a hyphen");
  return Status::Ok();
}

std::string LowercaseDomain(std::string_view domain) {
  std::string out(domain);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace mimi
