// FaultyVfs: a SQLite VFS for tests that wraps the default one and injects
// the failures of a disk that fills up or fails: a write or fsync answered
// SQLITE_FULL or an I/O error, on the Nth call or once a byte budget is
// spent, a torn write (only a prefix of the buffer reaches the file), and a
// "crash" (after the fault no call changes any file any more, as if the
// machine had died there, until Disarm()).
//
// Register() adds it once per process under kFaultyVfs (never as the
// default); a store opened with SqliteStoreOptions::vfs = kFaultyVfs (or a
// daemon with StoreConfig::sqlite_vfs) goes through it. Faults apply to the
// database, its WAL and its rollback journal, not to temporary files. One
// plan is armed at a time for the whole process: connections on other VFSs
// are not affected.
//
// Thread-safe: the plan and the counters are under one mutex, so Arm(),
// Disarm() and Stats() may be called while connections do I/O.
#ifndef MIMI_TESTING_FAULTY_VFS_H_
#define MIMI_TESTING_FAULTY_VFS_H_

#include <cstdint>

#include "mimi_portability/status.h"

namespace mimi::testing {

inline constexpr char kFaultyVfs[] = "mimi-faulty";

struct VfsFaultPlan {
  enum class Op { kWrite, kSync };
  enum class Error { kFull, kIoError };

  Op op = Op::kWrite;
  Error error = Error::kFull;
  // The first `skip_calls` calls of `op` after Arm() succeed; the next one
  // fails.
  int64_t skip_calls = 0;
  // kWrite: also fail the write that would take the bytes written since
  // Arm() past this budget (what fits is written first: a torn write).
  // Negative: no budget.
  int64_t byte_budget = -1;
  // true: every later call of `op` fails too (a disk that stays full) until
  // Disarm(); false: only the one call fails.
  bool sticky = true;
  // kWrite: the failing write first writes this many bytes of its buffer (a
  // torn write); 0: nothing.
  int64_t torn_bytes = 0;
  // After the failing call, every write, fsync, truncate and delete fails
  // without touching the file, until Disarm().
  bool crash = false;
};

// Counts since the last Arm() or Disarm().
struct VfsStats {
  int64_t writes = 0;
  int64_t syncs = 0;
  int64_t bytes = 0;
  int64_t faults = 0;
  bool crashed = false;
};

class FaultyVfs {
 public:
  // Registers the VFS (idempotent). kInternal if SQLite refuses.
  static Status Register();
  static void Arm(const VfsFaultPlan& plan);
  // No more faults; the disk works again (and a "crash" is over).
  static void Disarm();
  static VfsStats Stats();
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_FAULTY_VFS_H_
