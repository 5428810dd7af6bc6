// What every store does around Store::TransitionSteps, the same for each
// engine: checking the moves before the transaction (each a legal
// transition with exactly its data, each starting where the one before
// ended), and, once it committed, logging the moves it applied and
// summing up the outcome. Pure apart from the log; thread-safe.
#ifndef MIMI_STORE_TRANSITION_STEPS_H_
#define MIMI_STORE_TRANSITION_STEPS_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mimi_portability/status.h"
#include "store/store.h"
#include "store/transitions.h"

namespace mimi::store {

// The rule of each move, in order; kInvalidArgument for no moves, a move
// without data, an illegal one or a chain with a gap.
Result<std::vector<const TransitionRule*>> CheckMoves(
    Role role, std::span<const Store::Move> moves);

// The moves as "from -> to -> ...", for errors: the states a failed call
// was making the row pass through.
std::string DescribeMoves(std::span<const Store::Move> moves);

// Logs each applied move (LogMoved); kApplied if any was applied,
// kAlreadyApplied if every one was a repeat.
TransitionOutcome LogMoves(std::string_view id, Role role,
                           std::span<const Store::Move> moves,
                           const std::vector<bool>& applied);

}  // namespace mimi::store

#endif  // MIMI_STORE_TRANSITION_STEPS_H_
