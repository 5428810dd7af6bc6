// DeliveryService: the narrow interface through which the coordinator drives
// the Delivery Service it runs beside. The embedded reference DS implements it
// on the coordinator's own database; an adapter implements it over HTTP hooks
// for an operator's existing DS (docs/ds-interface.md is the contract).
//
// Every mutating call carries the id of the migration on whose behalf it is
// made (hex of the nonce) and must be idempotent for that id: the recovery
// loop repeats calls after crashes and timeouts, so a second identical call
// answers as the first did and changes nothing more. Errors are Status values;
// a refusal names its reason (ds_reason.h), and each reason comes with one
// code, whichever call returns it:
//
//   kNotFound           unknown-group (no such group), moved (the group left:
//                       a tombstone), unknown-leaf
//   kFailedPrecondition group-frozen, not-frozen, epoch-mismatch
//   kAlreadyExists      group-exists
//
// and kUnavailable for anything worth retrying (DS down, busy).
//
// Implementations must be safe to call from many threads at once.
#ifndef MIMI_PORTABILITY_DELIVERY_SERVICE_H_
#define MIMI_PORTABILITY_DELIVERY_SERVICE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/ds_reason.h"
#include "mimi_portability/status.h"

namespace mimi {

struct GroupSummary {
  Bytes group_id;
  uint64_t epoch = 0;
  uint16_t ciphersuite = 0;
  // Set while a migration holds the group (source: frozen for it; target:
  // imported by it). Empty when the group is free.
  std::string migration_id;
  bool frozen = false;
};

// Where a group went; answered for groups that left this DS.
struct Tombstone {
  Bytes group_id;
  std::string moved_to;     // target domain
  int64_t moved_at_ms = 0;  // Unix milliseconds
  Bytes confirmation;       // serialized MigrationConfirmation
};

class DeliveryService {
 public:
  virtual ~DeliveryService() = default;

  // kNotFound for an unknown group; kNotFound with reason "moved" (and the
  // tombstone's domain in the detail) for one that left.
  virtual Result<GroupSummary> LookupGroup(ByteSpan group_id) = 0;

  virtual Result<Tombstone> LookupTombstone(ByteSpan group_id) = 0;

  // The signature public key of the member at `leaf_index`, as its LeafNode
  // carries it. kNotFound (reason "unknown-leaf") for a blank or absent leaf.
  virtual Result<Bytes> MemberSignatureKey(ByteSpan group_id,
                                           uint32_t leaf_index) = 0;

  // Stops the group from accepting commits, provided it is at `epoch` and not
  // held by another migration. Repeating it for the same id succeeds.
  virtual Status Freeze(ByteSpan group_id, uint64_t epoch,
                        std::string_view migration_id) = 0;

  // Lifts a freeze placed by `migration_id` (after an acknowledged abort).
  // Succeeds when the group is not frozen by that id any more.
  virtual Status Unfreeze(ByteSpan group_id, std::string_view migration_id) = 0;

  // The group's portable state (docs/ds-interface.md, "group_state"), which
  // includes `commit`, the migration's tagged commit, so that the target
  // starts where the members will be once they process it. The group must be
  // frozen by `migration_id`. The same call twice yields the same bytes.
  virtual Result<Bytes> ExportGroupState(ByteSpan group_id, ByteSpan commit,
                                         std::string_view migration_id) = 0;

  // Creates the group from exported state. kAlreadyExists (reason
  // "group-exists") if the group lives here under another migration; the
  // same import again for the same id succeeds.
  virtual Status ImportGroupState(ByteSpan group_state,
                                  std::string_view migration_id) = 0;

  // Delivers the migration commit to every member, exactly once per
  // migration id, even if called again.
  virtual Status FanOutCommit(ByteSpan group_id, ByteSpan commit,
                              std::string_view migration_id) = 0;

  // Deletes the group's state and leaves a tombstone. Idempotent; "moved"
  // (kNotFound) if the group already left under another migration.
  virtual Status DeleteGroup(ByteSpan group_id, const Tombstone& tombstone,
                             std::string_view migration_id) = 0;
};

}  // namespace mimi

#endif  // MIMI_PORTABILITY_DELIVERY_SERVICE_H_
