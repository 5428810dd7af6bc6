// JoinedWrite: another component's writes on the store's own database,
// which a store call runs inside its own transaction, so that the store's
// row and those writes commit together or not at all; and JoinableDs, the
// Delivery Service writes of a migration offered that way.
//
// Why: each protocol step changes both the migration's row and the DS's
// group (the freeze beside the row's creation, the fan-out beside
// `confirmed`, the purge beside `purged`, the import beside `imported`).
// Made as two transactions they cost two durable commits and leave a crash
// window between them that recovery must repair ("persist, then act,
// idempotently"). When the DS is the embedded one on the store's database,
// one transaction does both (docs/protocol.md §4, "One commit per step").
// A DS elsewhere (ds.mode = "http") cannot join, and keeps the old order.
//
// A JoinedWrite carries one body per engine; a store runs the body of its
// own engine (SQLite: on the writer's connection, inside the job's
// savepoint; PostgreSQL: on the transaction's connection) and refuses a
// write that has none for it. An error from the body rolls the whole store
// call back and is the call's error. A body may run more than once (a
// PostgreSQL transaction retried after a serialization failure): it
// assigns, never accumulates. Bodies refer to what they were built from:
// use a JoinedWrite while the arguments it was made of live.
//
// JoinableDs implementations are thread-safe; a JoinedWrite belongs to the
// one store call it is passed to.
#ifndef MIMI_STORE_JOINED_WRITE_H_
#define MIMI_STORE_JOINED_WRITE_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/delivery_service.h"
#include "mimi_portability/status.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace mimi::store {

namespace pg {
class PgConnection;
}  // namespace pg

struct JoinedWrite {
  std::function<Status(SQLite::Database&)> sqlite;
  std::function<Status(pg::PgConnection&)> postgresql;
};

// The DeliveryService writes a migration makes (Tombstone is the DS's, of
// delivery_service.h, not the store's record), each as a JoinedWrite with
// the same checks, refusals and idempotence as the DeliveryService call of
// the same name (delivery_service.h).
class JoinableDs {
 public:
  virtual ~JoinableDs() = default;

  virtual JoinedWrite JoinFreeze(ByteSpan group_id, uint64_t epoch,
                                 std::string_view migration_id) = 0;
  virtual JoinedWrite JoinFanOutCommit(ByteSpan group_id, ByteSpan commit,
                                       std::string_view migration_id) = 0;
  virtual JoinedWrite JoinDeleteGroup(ByteSpan group_id,
                                      const ::mimi::Tombstone& tombstone,
                                      std::string_view migration_id) = 0;
  // The checks that need no database (the state's encoding, its tree, its
  // commit) run here, before any transaction; the write stores the group.
  // `group_state` must outlive the write.
  virtual Result<JoinedWrite> JoinImportGroupState(
      ByteSpan group_state, std::string_view migration_id) = 0;
};

}  // namespace mimi::store

#endif  // MIMI_STORE_JOINED_WRITE_H_
