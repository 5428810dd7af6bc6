// HeldLeases: the leases this process holds on migration rows, kept beside
// the store's copy so that the recovery loop can see what the store cannot.
//
// The store knows that a row is leased by this process's holder, but not
// whether a thread still uses the lease. Since a process never takes over
// its own live holder's leases (docs/protocol.md §4 "Lease ownership"), a
// lease that no thread holds any more would keep its row still until it
// lapses (recovery.lease_ms; minutes), and a driver stuck inside a step
// would keep it still without a word. So each MigrationLease is entered
// here from just before it asks the store for the lease until its release
// is durable, and a release that failed stays here as an orphan. Every
// recovery scan retries the orphans' releases and names each lease held
// for longer than it should take (log, stats).
//
// Owners are unique per lease ("<holder>#<n>"), which is what entries are
// keyed by; a row has at most one lease in use here at a time (TryAdd).
// Thread-safe.
#ifndef MIMI_PROTOCOL_HELD_LEASES_H_
#define MIMI_PROTOCOL_HELD_LEASES_H_

#include <map>
#include <string>
#include <vector>

#include "codec/mutex.h"
#include "mimi_portability/clock.h"
#include "store/records.h"

namespace mimi::protocol {

class HeldLeases {
 public:
  struct Lease {
    std::string id;
    store::Role role = store::Role::kSource;
    std::string owner;
    UnixMillis since = 0;  // when it was asked for
  };

  // `clock` stamps each lease; it outlives this object.
  explicit HeldLeases(const Clock& clock) : clock_(clock) {}
  HeldLeases(const HeldLeases&) = delete;
  HeldLeases& operator=(const HeldLeases&) = delete;

  // A lease is being taken (before the store is asked) ... unless a thread
  // of this process holds one on the same row: then false, and nothing is
  // added. This is what keeps two drivers of one process apart whatever the
  // clock says (a step forward makes a held lease look expired to the
  // store; docs/protocol.md §4 "Clocks").
  bool TryAdd(std::string id, store::Role role, std::string owner)
      EXCLUDES(mu_);
  // ... and is gone: released, or never granted.
  void Remove(const std::string& owner) EXCLUDES(mu_);
  // Its release failed: the store may still name it, and no thread holds it
  // any more. It stays an orphan until RetryOrphans releases it.
  void Orphan(const std::string& owner) EXCLUDES(mu_);

  // Calls `release` for each orphan, and forgets those it released.
  // Returns how many it released.
  template <typename Release>
  int RetryOrphans(Release&& release) EXCLUDES(mu_) {
    int released = 0;
    for (const Lease& lease : Orphans()) {
      if (release(lease)) {
        Remove(lease.owner);
        ++released;
      }
    }
    return released;
  }

  // Leases in use by a thread for `age_ms` or longer (oldest first).
  std::vector<Lease> HeldFor(int64_t age_ms) const EXCLUDES(mu_);
  std::vector<Lease> Orphans() const EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);

 private:
  struct Entry {
    Lease lease;
    bool orphan = false;
  };

  const Clock& clock_;
  mutable Mutex mu_;
  std::map<std::string, Entry> leases_ GUARDED_BY(mu_);  // by owner
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_HELD_LEASES_H_
