#include "protocol/held_leases.h"

#include <algorithm>
#include <utility>

namespace mimi::protocol {

bool HeldLeases::TryAdd(std::string id, store::Role role, std::string owner) {
  Lease lease{std::move(id), role, owner, clock_.NowMillis()};
  MutexLock lock(mu_);
  for (const auto& [other, entry] : leases_) {
    if (!entry.orphan && entry.lease.role == role &&
        entry.lease.id == lease.id) {
      return false;
    }
  }
  leases_[std::move(owner)] = Entry{std::move(lease), false};
  return true;
}

void HeldLeases::Remove(const std::string& owner) {
  MutexLock lock(mu_);
  leases_.erase(owner);
}

void HeldLeases::Orphan(const std::string& owner) {
  MutexLock lock(mu_);
  auto it = leases_.find(owner);
  if (it != leases_.end()) it->second.orphan = true;
}

std::vector<HeldLeases::Lease> HeldLeases::HeldFor(int64_t age_ms) const {
  const UnixMillis before = clock_.NowMillis() - age_ms;
  std::vector<Lease> out;
  {
    MutexLock lock(mu_);
    for (const auto& [owner, entry] : leases_) {
      if (!entry.orphan && entry.lease.since <= before) {
        out.push_back(entry.lease);
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Lease& a, const Lease& b) { return a.since < b.since; });
  return out;
}

std::vector<HeldLeases::Lease> HeldLeases::Orphans() const {
  std::vector<Lease> out;
  MutexLock lock(mu_);
  for (const auto& [owner, entry] : leases_) {
    if (entry.orphan) out.push_back(entry.lease);
  }
  return out;
}

size_t HeldLeases::size() const {
  MutexLock lock(mu_);
  return leases_.size();
}

}  // namespace mimi::protocol
