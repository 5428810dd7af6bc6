// RowWatch: lets a thread wait for a migration row to move instead of
// polling the store for it. Whoever moves a source row in this process (the
// source driver, whichever worker or the recovery loop runs it) calls
// Changed(id) after each step; an init handler waiting for the migration's
// confirmation holds a Waiter for the row, reads the row, and while the row
// is not where it wants it, sleeps in WaitForChange until the next step of
// that row, or until its deadline. A change made by another process (a
// second instance on a shared store) sends no signal here, so waiters still
// re-read the row now and then (the caller chooses how often).
//
// Changed() for a row nobody waits on is one map lookup under the mutex.
// Thread-safe; a Waiter belongs to one thread.
#ifndef MIMI_PROTOCOL_ROW_WATCH_H_
#define MIMI_PROTOCOL_ROW_WATCH_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "codec/mutex.h"

namespace mimi::protocol {

class RowWatch {
 public:
  // One thread's interest in row `id`, from construction to destruction:
  // every Changed(id) in between is seen by WaitForChange.
  class Waiter {
   public:
    Waiter(RowWatch& watch, std::string id);
    ~Waiter();
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    // True as soon as the row has changed since construction or the
    // previous call (at once if it already has); false at `deadline`.
    bool WaitForChange(std::chrono::steady_clock::time_point deadline);

   private:
    RowWatch& watch_;
    const std::string id_;
    uint64_t seen_ = 0;
  };

  RowWatch() = default;
  RowWatch(const RowWatch&) = delete;
  RowWatch& operator=(const RowWatch&) = delete;

  // Wakes the waiters of row `id`.
  void Changed(std::string_view id) EXCLUDES(mu_);

  // Changed() calls that found a waiter to wake.
  uint64_t SignalsDelivered() const EXCLUDES(mu_);

 private:
  struct Entry {
    uint64_t version = 0;
    int waiters = 0;
  };

  mutable Mutex mu_;
  CondVar changed_;
  std::map<std::string, Entry, std::less<>> rows_ GUARDED_BY(mu_);
  uint64_t delivered_ GUARDED_BY(mu_) = 0;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_ROW_WATCH_H_
