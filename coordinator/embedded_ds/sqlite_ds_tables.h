// The embedded DS's tables (ds_tables.h) on SQLite: writes are jobs of a
// store::SqliteWriter (in the daemon the one the store writes through, so
// that their writes share group commits; each job runs in its own savepoint
// and is durable, synchronous=FULL, when Write returns), reads run on a
// connection of their own in one deferred transaction and never wait for
// the writer. The writer runs one job at a time, so LockGroup has nothing
// to do.
//
// Thread-safe: reads are serialised by a mutex, writes by the writer.
// SQLiteCpp's exceptions are turned into Status values (store::Guarded).
#ifndef MIMI_EMBEDDED_DS_SQLITE_DS_TABLES_H_
#define MIMI_EMBEDDED_DS_SQLITE_DS_TABLES_H_

#include <memory>
#include <string_view>

#include "codec/mutex.h"
#include "embedded_ds/ds_tables.h"
#include "store/sqlite_statement_cache.h"
#include "store/sqlite_writer.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace mimi::embedded_ds {

class SqliteDsTables final : public DsTables {
 public:
  // Opens the read connection to the writer's file; kFailedPrecondition if
  // the file has no ds_* tables (the store upgrades the schema first).
  static Result<std::unique_ptr<SqliteDsTables>> Open(
      std::shared_ptr<store::SqliteWriter> writer);
  ~SqliteDsTables() override;

  Status Read(std::string_view what, const Body& body) override;
  Status Write(std::string_view what, const Body& body) override;
  store::JoinedWrite Join(std::string_view what, Body body) override;

 private:
  SqliteDsTables(std::shared_ptr<store::SqliteWriter> writer,
                 std::unique_ptr<SQLite::Database> reader);

  const std::shared_ptr<store::SqliteWriter> writer_;
  Mutex read_mu_;
  std::unique_ptr<SQLite::Database> reader_ GUARDED_BY(read_mu_);
  // The reader's prepared statements; after reader_, so that it goes first.
  // Writes use the writer's cache.
  std::unique_ptr<store::StatementCache> reader_statements_;
};

}  // namespace mimi::embedded_ds

#endif  // MIMI_EMBEDDED_DS_SQLITE_DS_TABLES_H_
