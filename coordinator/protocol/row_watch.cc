#include "protocol/row_watch.h"

#include <utility>

namespace mimi::protocol {

RowWatch::Waiter::Waiter(RowWatch& watch, std::string id)
    : watch_(watch), id_(std::move(id)) {
  MutexLock lock(watch_.mu_);
  Entry& entry = watch_.rows_[id_];
  ++entry.waiters;
  seen_ = entry.version;
}

RowWatch::Waiter::~Waiter() {
  MutexLock lock(watch_.mu_);
  auto it = watch_.rows_.find(id_);
  if (it != watch_.rows_.end() && --it->second.waiters == 0) {
    watch_.rows_.erase(it);
  }
}

bool RowWatch::Waiter::WaitForChange(
    std::chrono::steady_clock::time_point deadline) {
  MutexLock lock(watch_.mu_);
  for (;;) {
    const uint64_t now_at = watch_.rows_[id_].version;
    if (now_at != seen_) {
      seen_ = now_at;
      return true;
    }
    if (!watch_.changed_.WaitUntil(watch_.mu_, deadline)) {
      // One last look: a change may have come with the deadline.
      const uint64_t last = watch_.rows_[id_].version;
      if (last == seen_) return false;
      seen_ = last;
      return true;
    }
  }
}

void RowWatch::Changed(std::string_view id) {
  MutexLock lock(mu_);
  auto it = rows_.find(id);
  if (it == rows_.end()) return;
  ++it->second.version;
  ++delivered_;
  changed_.NotifyAll();
}

uint64_t RowWatch::SignalsDelivered() const {
  MutexLock lock(mu_);
  return delivered_;
}

}  // namespace mimi::protocol
