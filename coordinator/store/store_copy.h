// Copies a stopped daemon's SQLite database into an empty PostgreSQL one:
// `mimi-portctl store copy`, for an operator moving a deployment from the
// embedded default to PostgreSQL (docs/operations.md, "Moving to
// PostgreSQL").
//
// Every table of the SQLite file is copied, generically: the tables and
// their columns are read from both catalogs and must agree (both are at this
// binary's schema version: the SQLite file must already be, a new
// PostgreSQL database is brought there by its upgrade path, one at another
// version is refused unchanged), tables referenced by a
// foreign key go first, and identity sequences continue after the copied
// values. The whole copy is one PostgreSQL transaction that first locks
// every table and refuses a database with any row in any of them; before it
// commits, every table is read back in primary-key order and compared with
// the SQLite rows value by value, and its row count and a SHA-256 over its
// rows' canonical encoding are recorded on both sides. Any difference rolls
// everything back. The SQLite file is only read, in one snapshot; it is
// refused while a lease holder in it is alive (a daemon still running).
//
// Stateless; each call opens its own connections.
#ifndef MIMI_STORE_STORE_COPY_H_
#define MIMI_STORE_STORE_COPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "store/pg/pg_connection.h"

namespace mimi::store {

struct CopiedTable {
  std::string name;
  int64_t rows = 0;
  Bytes sha256;  // over the rows in primary-key order, equal on both sides
};

struct CopyReport {
  int schema_version = 0;
  std::vector<CopiedTable> tables;  // in copy order
};

// kNotFound: no file at `sqlite_path`. kFailedPrecondition: the file is at
// another schema version, a daemon is running on it, the PostgreSQL
// database is not empty or its tables differ from the file's. kUnavailable:
// the server cannot be reached. kInternal: the read-back differed (nothing
// is committed then).
Result<CopyReport> CopySqliteToPostgres(const std::string& sqlite_path,
                                        const pg::PgConnectOptions& to,
                                        const Clock& clock);

}  // namespace mimi::store

#endif  // MIMI_STORE_STORE_COPY_H_
