// mimi-portctl tokens issue NAME --data-dir DIR: lets a client import groups
// into this DS as a target (policy.target = "client-token"). Prints the
// token once; the DS keeps only its hash.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "protocol/client_tokens.h"

namespace mimi::cli {

void RegisterTokens(CLI::App& app) {
  auto* tokens = app.add_subcommand("tokens", "Client tokens for importing groups");
  tokens->require_subcommand(1);
  auto* issue = tokens->add_subcommand(
      "issue", "Issue a token for a client; prints it once");
  auto name = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  issue->add_option("NAME", *name, "the client's name (one word)")->required();
  issue->add_option("--data-dir", *data_dir, "the daemon's data directory")
      ->required();
  issue->callback([name, data_dir] {
    auto token = protocol::ClientTokens::Issue(
        std::filesystem::path(*data_dir) / "client_tokens", *name);
    if (!token.ok()) {
      std::cerr << "error: " << token.status().ToString() << "\n";
      SetExitCode(token.status().code() == StatusCode::kInvalidArgument
                      ? kExitBadInput
                      : kExitInternal);
      return;
    }
    std::cout << *token << "\n";
  });
}

}  // namespace mimi::cli
