// The store's SQL, compiled into the binary from schema/ and migrations/ by
// embedded_sql.cmake, so that a daemon needs no SQL files at run time.
//
// Immutable after static initialisation; thread-safe.
#ifndef MIMI_STORE_EMBEDDED_SQL_H_
#define MIMI_STORE_EMBEDDED_SQL_H_

#include <string_view>
#include <vector>

namespace mimi::store {

// One upgrade step, migrations/NNNN_name.sql: applying it to a database at
// version - 1 yields version.
struct EmbeddedMigration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// schema/schema.sql: the full current schema, used to check the steps.
extern const std::string_view kSchemaSql;

// Every step, in file-name order.
const std::vector<EmbeddedMigration>& EmbeddedMigrations();

// The same steps in PostgreSQL's dialect (migrations/postgresql/), with the
// same numbers and names: one history, two engines.
const std::vector<EmbeddedMigration>& EmbeddedPgMigrations();

}  // namespace mimi::store

#endif  // MIMI_STORE_EMBEDDED_SQL_H_
