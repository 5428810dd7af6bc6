#include "store/transitions.h"

#include <array>

#include "log/log.h"

namespace mimi::store {
namespace {

using S = MigrationState;

constexpr std::array<TransitionRule, 11> kRules = {{
    {Role::kSource, S::kInitiated, S::kContentSent,
     kFieldContent | kFieldContentHash, false},
    {Role::kSource, S::kContentSent, S::kTargetComplete, kFieldTargetComplete,
     false},
    {Role::kSource, S::kTargetComplete, S::kConfirmed, kFieldConfirmation,
     true},
    {Role::kSource, S::kConfirmed, S::kPurged, 0, false},
    {Role::kSource, S::kInitiated, S::kAbortRequested, kFieldAbortMessage,
     false},
    {Role::kSource, S::kContentSent, S::kAbortRequested, kFieldAbortMessage,
     false},
    // Only a verified MigrationAbortAck gets here (docs/protocol.md §4,
    // the abort-requested step).
    {Role::kSource, S::kAbortRequested, S::kAborted, kFieldAbortAck, false},
    // The target answered the abort with TargetMigrationComplete: roll
    // forward, since the group already lives there.
    {Role::kSource, S::kAbortRequested, S::kTargetComplete,
     kFieldTargetComplete, false},
    {Role::kTarget, S::kRequested, S::kImported,
     kFieldContent | kFieldContentHash | kFieldTargetComplete, false},
    {Role::kTarget, S::kRequested, S::kExpired, 0, false},
    {Role::kTarget, S::kRequested, S::kAborted,
     kFieldAbortMessage | kFieldAbortAck, false},
}};

std::string FieldNames(uint32_t fields) {
  static constexpr std::array<std::pair<uint32_t, const char*>, 6> kNames = {{
      {kFieldContent, "content"},
      {kFieldContentHash, "content_hash"},
      {kFieldTargetComplete, "target_complete"},
      {kFieldConfirmation, "confirmation"},
      {kFieldAbortMessage, "abort_message"},
      {kFieldAbortAck, "abort_ack"},
  }};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (fields & bit) out += out.empty() ? name : std::string(", ") + name;
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace

std::span<const TransitionRule> TransitionRules() { return kRules; }

MigrationState InitialState(Role role) {
  return role == Role::kSource ? S::kInitiated : S::kRequested;
}

bool IsStateOf(Role role, MigrationState state) {
  if (state == InitialState(role)) return true;
  for (const TransitionRule& r : kRules) {
    if (r.role == role && (r.from == state || r.to == state)) return true;
  }
  return false;
}

bool IsTerminal(Role role, MigrationState state) {
  for (const TransitionRule& r : kRules) {
    if (r.role == role && r.from == state) return false;
  }
  return true;
}

bool HoldsConfirmation(Role role, MigrationState state) {
  // The table has no cycles (a row only moves on), so this ends.
  bool entered = false;
  for (const TransitionRule& r : kRules) {
    if (r.role != role || r.to != state) continue;
    entered = true;
    if ((r.fields & kFieldConfirmation) == 0 &&
        !HoldsConfirmation(role, r.from)) {
      return false;
    }
  }
  return entered;
}

uint32_t FieldsOf(const TransitionData& data) {
  uint32_t f = 0;
  if (data.content) f |= kFieldContent;
  if (data.content_hash) f |= kFieldContentHash;
  if (data.target_complete) f |= kFieldTargetComplete;
  if (data.confirmation) f |= kFieldConfirmation;
  if (data.abort_message) f |= kFieldAbortMessage;
  if (data.abort_ack) f |= kFieldAbortAck;
  return f;
}

Result<const TransitionRule*> CheckTransition(Role role, MigrationState from,
                                              MigrationState to,
                                              const TransitionData& data) {
  for (const TransitionRule& r : kRules) {
    if (r.role != role || r.from != from || r.to != to) continue;
    uint32_t given = FieldsOf(data);
    if (given != r.fields) {
      return InvalidArgumentError(
          std::string(RoleName(role)) + " " + std::string(StateName(from)) +
          " -> " + std::string(StateName(to)) + " stores " +
          FieldNames(r.fields) + ", but was given " + FieldNames(given));
    }
    for (const std::optional<Bytes>* v :
         {&data.content, &data.content_hash, &data.target_complete,
          &data.confirmation, &data.abort_message, &data.abort_ack}) {
      // Empty is how a record says "not yet", so it cannot be a value.
      if (*v && (*v)->empty()) {
        return InvalidArgumentError("transition data holds an empty message");
      }
    }
    return &r;
  }
  return InvalidArgumentError(
      "no " + std::string(RoleName(role)) + " transition " +
      std::string(StateName(from)) + " -> " + std::string(StateName(to)));
}

void LogCreated(std::string_view id, Role role, std::string_view detail) {
  log::Info(log::Migration{id}, "{} {}: {}", RoleName(role),
            StateName(InitialState(role)), detail);
}

void LogMoved(std::string_view id, Role role, MigrationState from,
              MigrationState to, std::string_view detail) {
  log::Info(log::Migration{id}, "{} {} -> {}: {}", RoleName(role),
            StateName(from), StateName(to), detail);
}

}  // namespace mimi::store
