#include "cli/commands.h"

namespace mimi::cli {
namespace {
int g_exit_code = kExitOk;
}  // namespace

void SetExitCode(int code) { g_exit_code = code; }
int ExitCode() { return g_exit_code; }

}  // namespace mimi::cli
