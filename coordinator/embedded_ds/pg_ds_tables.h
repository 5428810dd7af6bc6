// The embedded DS's tables (ds_tables.h) on PostgreSQL, on a pool of
// connections (store/pg/pg_pool.h) that is usually the PostgreSQL store's
// own, so that several mimi-portd instances on one database serve the same
// DS. Each Read is one REPEATABLE READ READ ONLY transaction (one snapshot);
// each Write one READ COMMITTED transaction, retried by PgPool::Transact
// when the server rolls it back for a serialization failure or a deadlock.
//
// LockGroup takes a transaction-scoped advisory lock on the group id (keyed
// apart from the store's own advisory locks), so that writers of one group
// on every instance take turns, creations and imports of a group that has
// no row yet included; LoadGroup in a write also locks the row (SELECT ...
// FOR UPDATE). A statement after the lock sees everything committed before
// it was granted (READ COMMITTED takes a new snapshot per statement), so
// the DS's checks hold until the commit: exactly one of two commits at the
// same epoch wins, seqs stay gap-free, a fan-out is recorded once.
//
// Thread-safe: every call runs on its own pooled connection.
#ifndef MIMI_EMBEDDED_DS_PG_DS_TABLES_H_
#define MIMI_EMBEDDED_DS_PG_DS_TABLES_H_

#include <memory>
#include <string_view>

#include "embedded_ds/ds_tables.h"
#include "store/pg/pg_pool.h"

namespace mimi::embedded_ds {

class PgDsTables final : public DsTables {
 public:
  // kFailedPrecondition if the database has no ds_* tables (the store
  // upgrades the schema first).
  static Result<std::unique_ptr<PgDsTables>> Open(
      std::shared_ptr<store::pg::PgPool> pool);

  Status Read(std::string_view what, const Body& body) override;
  Status Write(std::string_view what, const Body& body) override;
  store::JoinedWrite Join(std::string_view what, Body body) override;

 private:
  explicit PgDsTables(std::shared_ptr<store::pg::PgPool> pool)
      : pool_(std::move(pool)) {}

  const std::shared_ptr<store::pg::PgPool> pool_;
};

}  // namespace mimi::embedded_ds

#endif  // MIMI_EMBEDDED_DS_PG_DS_TABLES_H_
