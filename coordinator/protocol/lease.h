// MigrationLease: holds the store's lease on one migration row for the span
// of one driver's work, so that the request handler, the recovery loop, and
// other processes on the same database never drive the same row at once.
//
// Acquire() is a compare-and-set in the store (free, expired or our own);
// the destructor releases, and HeldLeases knows of the lease meanwhile. The
// owner is "<holder>#<n>": the process's lease holder and a counter, so that
// two threads of one process exclude each other too. If the process dies, the
// lease is taken over as soon as its holder counts as dead, and lapses by
// itself at the latest (docs/protocol.md §4 "Lease ownership"). LeaseRow() is
// how every driver starts: take the lease, then read the row. One lease object
// belongs to one thread.
#ifndef MIMI_PROTOCOL_LEASE_H_
#define MIMI_PROTOCOL_LEASE_H_

#include <memory>
#include <string>

#include "protocol/context.h"
#include "protocol/held_leases.h"
#include "protocol/refusal.h"
#include "store/store.h"

namespace mimi::protocol {

class MigrationLease {
 public:
  // kUnavailable (reason "busy") if someone else holds it. `held` (may be
  // null) tracks the lease while this object lives (protocol/held_leases.h).
  static Result<std::unique_ptr<MigrationLease>> Acquire(
      store::Store& store, HeldLeases* held, const std::string& id,
      store::Role role, const std::string& holder, int64_t duration_ms);

  // A lease for a row about to be created with it (Store::
  // CreateSourceMigration with record.lease_owner = owner()): entered in
  // `held` now, under a fresh owner, so that taking the lease rides on the
  // row's creation. The store holds nothing for it until Created() says
  // the row exists; destroyed before that, it only leaves `held`.
  // kUnavailable "busy" if this process already drives the row.
  static Result<std::unique_ptr<MigrationLease>> ForNewRow(
      store::Store& store, HeldLeases* held, const std::string& id,
      store::Role role, const std::string& holder);
  void Created() { in_store_ = true; }
  const std::string& owner() const { return owner_; }

  // Releases; a failed release is logged and left to the recovery loop to
  // retry (HeldLeases::Orphan), since nobody else would free the row before
  // the lease lapses.
  ~MigrationLease();
  MigrationLease(const MigrationLease&) = delete;
  MigrationLease& operator=(const MigrationLease&) = delete;

  // The row has entered a terminal state since the lease was taken: the
  // transition that put it there ended the lease in the store (whoever held
  // it), so the destructor spends no write on a release.
  void EndedByTransition() { in_store_ = false; }

 private:
  MigrationLease(store::Store& store, HeldLeases* held, std::string id,
                 store::Role role, std::string owner)
      : store_(store),
        held_(held),
        id_(std::move(id)),
        role_(role),
        owner_(std::move(owner)) {}

  store::Store& store_;
  HeldLeases* const held_;
  const std::string id_;
  const store::Role role_;
  const std::string owner_;
  // Whether the store holds this lease, so that letting go of it takes a
  // release write.
  bool in_store_ = true;
};

// A migration row read under its lease; the lease is released when this
// goes out of scope.
struct LeasedRow {
  std::unique_ptr<MigrationLease> lease;
  store::MigrationRecord row;
};

// Takes the row's lease (ctx.options->recovery.lease_ms; kUnavailable
// "busy" when another driver holds it), then reads the row: whatever was
// read before the lease may be stale, since another driver may have moved
// the row on in between.
inline Result<LeasedRow> LeaseRow(const ProtocolContext& ctx,
                                  const std::string& id, store::Role role) {
  MIMI_ASSIGN_OR_RETURN(
      auto lease, MigrationLease::Acquire(*ctx.store, ctx.held_leases, id, role,
                                          ctx.lease_holder,
                                          ctx.options->recovery.lease_ms));
  MIMI_ASSIGN_OR_RETURN(store::MigrationRecord row, ctx.store->Get(id, role));
  return LeasedRow{std::move(lease), std::move(row)};
}

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_LEASE_H_
