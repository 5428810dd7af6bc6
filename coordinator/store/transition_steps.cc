#include "store/transition_steps.h"

#include <string>

namespace mimi::store {

Result<std::vector<const TransitionRule*>> CheckMoves(
    Role role, std::span<const Store::Move> moves) {
  if (moves.empty()) return InvalidArgumentError("no transition to make");
  std::vector<const TransitionRule*> rules;
  rules.reserve(moves.size());
  for (size_t i = 0; i < moves.size(); ++i) {
    const Store::Move& m = moves[i];
    if (m.data == nullptr) return InvalidArgumentError("a move without data");
    if (i > 0 && moves[i - 1].to != m.from) {
      return InvalidArgumentError(
          "moves " + std::string(StateName(moves[i - 1].to)) + " and " +
          std::string(StateName(m.from)) + " do not chain");
    }
    MIMI_ASSIGN_OR_RETURN(const TransitionRule* rule,
                          CheckTransition(role, m.from, m.to, *m.data));
    rules.push_back(rule);
  }
  return rules;
}

std::string DescribeMoves(std::span<const Store::Move> moves) {
  if (moves.empty()) return "no move";
  std::string out(StateName(moves.front().from));
  for (const Store::Move& m : moves) {
    out += " -> ";
    out += StateName(m.to);
  }
  return out;
}

TransitionOutcome LogMoves(std::string_view id, Role role,
                           std::span<const Store::Move> moves,
                           const std::vector<bool>& applied) {
  bool any = false;
  for (size_t i = 0; i < moves.size(); ++i) {
    if (!applied[i]) continue;
    any = true;
    LogMoved(id, role, moves[i].from, moves[i].to, moves[i].data->detail);
  }
  return any ? TransitionOutcome::kApplied : TransitionOutcome::kAlreadyApplied;
}

}  // namespace mimi::store
