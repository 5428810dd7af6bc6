// mimi-portctl's exit codes, documented in docs/operations.md:
//   0 ok, 1 the migration asked about is in (or ended in) a failed state,
//   2 malformed input, usage error or a refusal, 3 not found, 4 a daemon or
//   peer unreachable, 70 internal error.
// Every subcommand turns a failed Status into its exit code with
// ExitCodeFor, so that one StatusCode means one exit code everywhere; 1 is
// never a Status's code but an outcome a command reports itself. Apart from
// cli/commands.h so that what needs only the codes does not parse CLI11
// (whose header costs seconds of compile time per translation unit).
// Single-threaded, like the CLI itself.
#ifndef MIMI_TOOLS_CLI_EXIT_CODE_H_
#define MIMI_TOOLS_CLI_EXIT_CODE_H_

#include "mimi_portability/status.h"

namespace mimi::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailedState = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitUnreachable = 4;
inline constexpr int kExitInternal = 70;

void SetExitCode(int code);
int ExitCode();

// The exit code of a failed command (the table in docs/operations.md).
int ExitCodeFor(const Status& status);

// The usual end of a failed subcommand: "error: <status>" on stderr and the
// status's exit code.
void ReportFailure(const Status& status);

}  // namespace mimi::cli

#endif  // MIMI_TOOLS_CLI_EXIT_CODE_H_
