#include "protocol/lease.h"

#include <atomic>

#include "log/log.h"

namespace mimi::protocol {

namespace {

std::string NewOwner(const std::string& holder) {
  static std::atomic<uint64_t> counter{0};
  return holder + "#" + std::to_string(++counter);
}

}  // namespace

Result<std::unique_ptr<MigrationLease>> MigrationLease::ForNewRow(
    store::Store& store, HeldLeases* held, const std::string& id,
    store::Role role, const std::string& holder) {
  std::string owner = NewOwner(holder);
  if (held != nullptr && !held->TryAdd(id, role, owner)) {
    return Refuse(
        StatusCode::kUnavailable, reason::kBusy,
        "migration " + id + " is being driven by this process; retry");
  }
  auto lease = std::unique_ptr<MigrationLease>(
      new MigrationLease(store, held, id, role, std::move(owner)));
  lease->in_store_ = false;
  return lease;
}

Result<std::unique_ptr<MigrationLease>> MigrationLease::Acquire(
    store::Store& store, HeldLeases* held, const std::string& id,
    store::Role role, const std::string& holder, int64_t duration_ms) {
  std::string owner = NewOwner(holder);
  // Entered before the store is asked, so that no moment exists at which
  // the store names this owner and HeldLeases does not.
  if (held != nullptr && !held->TryAdd(id, role, owner)) {
    return Refuse(
        StatusCode::kUnavailable, reason::kBusy,
        "migration " + id + " is being driven by this process; retry");
  }
  Status s = store.AcquireLease(id, role, owner, duration_ms);
  if (!s.ok()) {
    // Refused or failed: the store holds nothing under this owner (a failed
    // write changed nothing).
    if (held != nullptr) held->Remove(owner);
    if (s.code() == StatusCode::kFailedPrecondition) {
      return Refuse(StatusCode::kUnavailable, reason::kBusy,
                    "migration " + id + " is being driven elsewhere; retry");
    }
    return s;
  }
  return std::unique_ptr<MigrationLease>(
      new MigrationLease(store, held, id, role, std::move(owner)));
}

MigrationLease::~MigrationLease() {
  if (!in_store_) {
    if (held_ != nullptr) held_->Remove(owner_);
    return;
  }
  Status s = store_.ReleaseLease(id_, role_, owner_);
  if (s.ok()) {
    if (held_ != nullptr) held_->Remove(owner_);
    return;
  }
  log::Warn(log::Migration{id_},
            "{}: releasing lease {} failed ({}); the recovery loop retries it",
            store::RoleName(role_), owner_, s.ToString());
  if (held_ != nullptr) held_->Orphan(owner_);
}

}  // namespace mimi::protocol
