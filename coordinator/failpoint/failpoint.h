// Failpoints: named places in the code where a test (or an operator
// rehearsing a disaster) can make the process crash, fail or stall, so that
// recovery is proven rather than hoped for.
//
// Every failpoint is compiled in and off by default; checking an unarmed one
// costs one relaxed atomic load. They are armed from a spec string, usually
// the MIMI_FAILPOINTS environment variable read at start:
//
//   MIMI_FAILPOINTS="source.after_initiated=crash;target.before_import=error*2;
//                    source.before_send_content=delay:1500"
//
// Actions: `crash` calls _exit(kCrashExitCode) at once (no destructors, no
// flushing: what a kill -9 leaves behind); `error` makes Hit() return
// kUnavailable; `delay:MS` sleeps. A `*N` suffix limits the action to the
// first N hits (then the failpoint disarms itself), `@N` skips N hits first.
// Thread-safe.
#ifndef MIMI_FAILPOINT_FAILPOINT_H_
#define MIMI_FAILPOINT_FAILPOINT_H_

#include <string>
#include <string_view>
#include <vector>

#include "mimi_portability/status.h"

namespace mimi::failpoint {

// Exit code of a failpoint crash, so tests can tell it from a real crash.
inline constexpr int kCrashExitCode = 86;

// Replaces the armed set with `spec` (empty disarms all). Unknown names are
// refused: a typo must not silently test nothing.
Status Arm(std::string_view spec);
// Arms from MIMI_FAILPOINTS if set.
Status ArmFromEnvironment();
void DisarmAll();

// Checks the failpoint `name` (which must be in Names()): OK unless armed.
Status Hit(std::string_view name);

// How often `name` was hit while armed (for tests).
int HitCount(std::string_view name);

// Every failpoint the code defines, documented in docs/operations.md.
const std::vector<std::string>& Names();

}  // namespace mimi::failpoint

#endif  // MIMI_FAILPOINT_FAILPOINT_H_
