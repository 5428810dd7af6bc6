// The subcommands of mimi-portctl. Each Register* adds one subcommand (and its
// options) to the app; its callback sets the process exit code through
// SetExitCode. Exit codes are documented in docs/operations.md:
//   0 ok, 1 the migration asked about is in (or ended in) a failed state,
//   2 malformed input, usage error or a refusal, 3 not found, 4 a daemon or
//   peer unreachable, 70 internal error.
// Every subcommand turns a failed Status into its exit code with
// ExitCodeFor, so that one StatusCode means one exit code everywhere; 1 is
// never a Status's code but an outcome a command reports itself.
// Single-threaded, like the CLI itself.
#ifndef MIMI_TOOLS_CLI_COMMANDS_H_
#define MIMI_TOOLS_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

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

// decode TYPE INPUT: prints a wire message as JSON (cli/decode.cc).
void RegisterDecode(CLI::App& app);

// keys generate|show|rotate: the DS signing key directory (cli/keys.cc).
void RegisterKeys(CLI::App& app);

// status|list|show|watch|retry|abort|stats: migrations through the admin
// API, or the database read-only when the daemon is down (cli/ops.cc).
void RegisterOps(CLI::App& app);

// migrate --source URL --target URL ...: one migration as a member of the
// group, from request to verified confirmation (cli/migrate.cc).
void RegisterMigrate(CLI::App& app);

// tokens issue|list|revoke: client tokens for the target policy and the
// member API (cli/tokens.cc).
void RegisterTokens(CLI::App& app);

}  // namespace mimi::cli

#endif  // MIMI_TOOLS_CLI_COMMANDS_H_
