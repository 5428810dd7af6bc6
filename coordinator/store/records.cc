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

std::string_view MessageKindName(MessageKind kind) {
  switch (kind) {
    case MessageKind::kRequest:
      return "request";
    case MessageKind::kResponse:
      return "response";
    case MessageKind::kInitRequest:
      return "init_request";
    case MessageKind::kCommit:
      return "commit";
    case MessageKind::kContent:
      return "content";
    case MessageKind::kTargetComplete:
      return "target_complete";
    case MessageKind::kConfirmation:
      return "confirmation";
    case MessageKind::kAbortMessage:
      return "abort_message";
    case MessageKind::kAbortAck:
      return "abort_ack";
  }
  return "unknown";
}

Bytes& MessageOf(MigrationRecord& record, MessageKind kind) {
  return const_cast<Bytes&>(
      MessageOf(static_cast<const MigrationRecord&>(record), kind));
}

const Bytes& MessageOf(const MigrationRecord& record, MessageKind kind) {
  switch (kind) {
    case MessageKind::kRequest:
      return record.request;
    case MessageKind::kResponse:
      return record.response;
    case MessageKind::kInitRequest:
      return record.init_request;
    case MessageKind::kCommit:
      return record.commit;
    case MessageKind::kContent:
      return record.content;
    case MessageKind::kTargetComplete:
      return record.target_complete;
    case MessageKind::kConfirmation:
      return record.confirmation;
    case MessageKind::kAbortMessage:
      return record.abort_message;
    case MessageKind::kAbortAck:
      break;
  }
  return record.abort_ack;
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

std::string_view LeaseHolderOf(std::string_view owner) {
  const size_t hash = owner.rfind('#');
  return hash == std::string_view::npos ? owner : owner.substr(0, hash);
}

std::string ClaimOwnerOf(std::string_view holder) {
  return std::string(holder) + "#claim";
}

Status CheckInstanceId(std::string_view instance_id) {
  if (instance_id.empty() ||
      instance_id.find_first_of("/#") != std::string_view::npos) {
    return InvalidArgumentError(
        "lease holder: instance id must be non-empty without '/' or '#'");
  }
  return Status::Ok();
}

}  // namespace mimi::store
