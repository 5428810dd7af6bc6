#include "store/records.h"

#include <array>
#include <utility>

namespace mimi::store {
namespace {

constexpr std::array<std::pair<MigrationState, std::string_view>, 10>
    kStateNames = {{
        {MigrationState::kInitiated, "initiated"},
        {MigrationState::kContentSent, "content-sent"},
        {MigrationState::kTargetComplete, "target-complete"},
        {MigrationState::kConfirmed, "confirmed"},
        {MigrationState::kPurged, "purged"},
        {MigrationState::kAbortRequested, "abort-requested"},
        {MigrationState::kAborted, "aborted"},
        {MigrationState::kRequested, "requested"},
        {MigrationState::kImported, "imported"},
        {MigrationState::kExpired, "expired"},
    }};

}  // namespace

std::string_view RoleName(Role role) {
  return role == Role::kSource ? "source" : "target";
}

Result<Role> ParseRole(std::string_view name) {
  if (name == "source") return Role::kSource;
  if (name == "target") return Role::kTarget;
  return InvalidArgumentError("unknown role \"" + std::string(name) + "\"");
}

std::string_view StateName(MigrationState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "unknown";
}

Result<MigrationState> ParseState(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return InvalidArgumentError("unknown migration state \"" + std::string(name) +
                              "\"");
}

Result<std::string> ParseMigrationId(std::string_view text) {
  if (text.size() != 64 ||
      text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return MalformedError("migration id must be 64 hex digits (the nonce)");
  }
  std::string id(text);
  for (char& c : id) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return id;
}

}  // namespace mimi::store
