// The migration state machine of both roles (docs/protocol.md §4 "States")
// as one table: which transitions are legal and which protocol data each one
// must store.
//
// The store consults this table before it writes anything, so an illegal
// transition changes nothing. Pure functions over constant data; thread-safe.
//
//   source: initiated -> content-sent -> target-complete -> confirmed -> purged
//           initiated | content-sent -> abort-requested -> aborted
//           abort-requested -> target-complete   (the abort lost the race:
//                                                  the target had imported)
//   target: requested -> imported | expired | aborted
#ifndef MIMI_STORE_TRANSITIONS_H_
#define MIMI_STORE_TRANSITIONS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "store/records.h"

namespace mimi::store {

// The data columns a transition writes, as bits.
enum Field : uint32_t {
  kFieldContent = 1u << 0,
  kFieldContentHash = 1u << 1,
  kFieldTargetComplete = 1u << 2,
  kFieldConfirmation = 1u << 3,
  kFieldAbortMessage = 1u << 4,
  kFieldAbortAck = 1u << 5,
};

// What a transition stores along with the new state. A set optional is a
// column to write; each column is written by at most one transition of a
// migration, which is what lets a repeat be recognised by comparing data.
struct TransitionData {
  std::optional<Bytes> content;
  std::optional<Bytes> content_hash;
  std::optional<Bytes> target_complete;
  std::optional<Bytes> confirmation;
  std::optional<Bytes> abort_message;
  std::optional<Bytes> abort_ack;
  // When recovery should next look at the row. Unset: now for a non-terminal
  // state (the next step is due), never for a terminal one.
  std::optional<UnixMillis> next_attempt_at;
  // Free text for the event log.
  std::string detail;
};

struct TransitionRule {
  Role role;
  MigrationState from;
  MigrationState to;
  uint32_t fields;  // exactly these Field bits must be set in the data
  // Entering `to` makes the group's tombstone (source, confirmed).
  bool writes_tombstone;
};

std::span<const TransitionRule> TransitionRules();

// The state a role's rows are created in.
MigrationState InitialState(Role role);

// What every store logs (log/log.h) once the write is durable, naming the
// migration: the store is the one place every creation and transition of
// either role passes, so operators see each row created and each move.
void LogCreated(std::string_view id, Role role, std::string_view detail);
void LogMoved(std::string_view id, Role role, MigrationState from,
              MigrationState to, std::string_view detail);
// Whether `state` is used by `role` at all.
bool IsStateOf(Role role, MigrationState state);
// No transition leaves a terminal state.
bool IsTerminal(Role role, MigrationState state);
// Whether a row in `state` holds its MigrationConfirmation: every transition
// into the state stores it or leaves a state that holds it (source:
// confirmed, purged). Rows come without their messages, so readers ask this
// before reading the confirmation.
bool HoldsConfirmation(Role role, MigrationState state);

uint32_t FieldsOf(const TransitionData& data);

// The rule for role/from/to after checking that the data carries exactly its
// fields; kInvalidArgument names what is wrong.
Result<const TransitionRule*> CheckTransition(Role role, MigrationState from,
                                              MigrationState to,
                                              const TransitionData& data);

}  // namespace mimi::store

#endif  // MIMI_STORE_TRANSITIONS_H_
