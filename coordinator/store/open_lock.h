// OpenLock: makes the processes and threads that open SQLite files in one
// directory take turns at the moment of opening.
//
// Opening a store switches the file to WAL and applies missing schema steps.
// When two connections do that to a new file at once, one of them can get
// SQLITE_BUSY ("database is locked") without SQLite ever calling its busy
// handler: the journal-mode switch upgrades a read lock to a write lock, and
// SQLite refuses such an upgrade at once rather than risk a deadlock, so
// busy_timeout does not help. mimi-portd and mimi-portctl opening a new data
// directory together hit exactly that. The cure is to wait, not to fail: an
// exclusive flock(2) on the database's directory around that phase (a writer
// open), a shared one around a read-only open's first look at the file.
//
// The lock is on the directory, not the database file: closing any other
// descriptor of the database file would drop SQLite's own POSIX locks on it,
// and a lock file would be one more file to create, own and clean up.
// flock locks belong to the open file description, so threads of one
// process exclude each other just as processes do.
//
// Movable, not copyable; the lock is released when the object is destroyed.
// Thread-safe in the sense that each object is used by one thread.
#ifndef MIMI_STORE_OPEN_LOCK_H_
#define MIMI_STORE_OPEN_LOCK_H_

#include <chrono>
#include <string>

#include "mimi_portability/status.h"

namespace mimi::store {

class OpenLock {
 public:
  enum class Mode { kShared, kExclusive };

  // Locks the directory that holds `db_path`, waiting up to `timeout`;
  // kUnavailable "database busy" if it stays held that long.
  static Result<OpenLock> Acquire(const std::string& db_path, Mode mode,
                                  std::chrono::milliseconds timeout);

  OpenLock(OpenLock&& other) noexcept;
  OpenLock& operator=(OpenLock&& other) noexcept;
  OpenLock(const OpenLock&) = delete;
  OpenLock& operator=(const OpenLock&) = delete;
  ~OpenLock();

 private:
  explicit OpenLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace mimi::store

#endif  // MIMI_STORE_OPEN_LOCK_H_
