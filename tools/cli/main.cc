// mimi-portctl: entry point. Subcommands register themselves from their own
// files; see cli/commands.h.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  try {
    CLI::App app{"mimi-portctl: inspect and drive MIMI Portability migrations"};
    app.require_subcommand(1);
    mimi::cli::RegisterDecode(app);
    mimi::cli::RegisterKeys(app);
    mimi::cli::RegisterMigrate(app);
    mimi::cli::RegisterOps(app);
    mimi::cli::RegisterStore(app);
    mimi::cli::RegisterTokens(app);
    CLI11_PARSE(app, argc, argv);
    return mimi::cli::ExitCode();
  } catch (const std::exception& e) {
    std::cerr << "mimi-portctl: internal error: " << e.what() << "\n";
    return 70;
  }
}
