// The subcommands of mimi-portctl. Each Register* adds one subcommand (and its
// options) to the app; its callback sets the process exit code through
// SetExitCode (cli/exit_code.h).
// Single-threaded, like the CLI itself.
#ifndef MIMI_TOOLS_CLI_COMMANDS_H_
#define MIMI_TOOLS_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/exit_code.h"

namespace mimi::cli {

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

// store copy --from sqlite:PATH --to postgresql://...: a stopped daemon's
// database into an empty PostgreSQL one (cli/store.cc).
void RegisterStore(CLI::App& app);

}  // namespace mimi::cli

#endif  // MIMI_TOOLS_CLI_COMMANDS_H_
