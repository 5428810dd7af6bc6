#include "store/transition_repeat.h"

namespace mimi::store {

Result<TransitionOutcome> UnmatchedTransition(
    const std::string& what, const MigrationRecord& row, bool repeated,
    const TransitionData& data,
    const std::function<Result<Bytes>(MessageKind)>& stored_message) {
  if (!repeated) {
    return Status(StatusCode::kFailedPrecondition,
                  what + ": the migration is in state " +
                      std::string(StateName(row.state)));
  }
  // Only the messages this transition carries are read back; the content
  // is named first, then its hash, as the row's columns used to be.
  for (const DataMessage& m : kDataMessages) {
    if (data.*m.given) {
      MIMI_ASSIGN_OR_RETURN(Bytes stored, stored_message(m.kind));
      if (*(data.*m.given) != stored) {
        return Status(StatusCode::kFailedPrecondition,
                      what + " already happened with a different " +
                          std::string(MessageKindName(m.kind)));
      }
    }
    if (m.kind == MessageKind::kContent && data.content_hash &&
        *data.content_hash != row.content_hash) {
      return Status(StatusCode::kFailedPrecondition,
                    what + " already happened with a different content_hash");
    }
  }
  return TransitionOutcome::kAlreadyApplied;
}

}  // namespace mimi::store
