// How a store decides a transition whose compare-and-set matched no row,
// the same for every engine: a repeat of a transition that happened (its
// event from -> to is recorded) with the same data is kAlreadyApplied, so
// that a resent step is answered as before; with other data, or when the
// row is simply elsewhere, kFailedPrecondition naming what differs or the
// row's state (docs/protocol.md §4 "States").
//
// kDataMessages says which TransitionData fields are messages (the content
// hash is a column of the row): the write and the repeat check of every
// engine read it here, so they cannot disagree. Pure; thread-safe.
#ifndef MIMI_STORE_TRANSITION_REPEAT_H_
#define MIMI_STORE_TRANSITION_REPEAT_H_

#include <functional>
#include <optional>
#include <string>

#include "store/store.h"

namespace mimi::store {

struct DataMessage {
  MessageKind kind;
  const std::optional<Bytes> TransitionData::*given;
};
inline constexpr DataMessage kDataMessages[] = {
    {MessageKind::kContent, &TransitionData::content},
    {MessageKind::kTargetComplete, &TransitionData::target_complete},
    {MessageKind::kConfirmation, &TransitionData::confirmation},
    {MessageKind::kAbortMessage, &TransitionData::abort_message},
    {MessageKind::kAbortAck, &TransitionData::abort_ack},
};

// `what` names the transition for errors; `row` is the row as it is;
// `repeated` whether its event from -> to is recorded; `stored_message`
// reads one of the row's stored messages (only those `data` carries are
// read).
Result<TransitionOutcome> UnmatchedTransition(
    const std::string& what, const MigrationRecord& row, bool repeated,
    const TransitionData& data,
    const std::function<Result<Bytes>(MessageKind)>& stored_message);

}  // namespace mimi::store

#endif  // MIMI_STORE_TRANSITION_REPEAT_H_
