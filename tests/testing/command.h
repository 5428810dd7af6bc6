// RunCommand: runs a shell command line (for the openssl tool and other
// external programs the tests compare against) and collects its exit status
// and standard output; standard error is passed through for diagnosis.
//
// Blocks until the child exits, so no child outlives the call. Thread-safe as
// far as popen is.
#ifndef MIMI_TESTING_COMMAND_H_
#define MIMI_TESTING_COMMAND_H_

#include <string>

namespace mimi::testing {

struct CommandResult {
  int exit_code = -1;  // -1 if the command could not run or was killed
  std::string output;  // stdout
};

CommandResult RunCommand(const std::string& command_line);

// Single-quotes `arg` for /bin/sh.
std::string ShellQuote(const std::string& arg);

}  // namespace mimi::testing

#endif  // MIMI_TESTING_COMMAND_H_
