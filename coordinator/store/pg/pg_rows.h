// PgStore's row mapping, shared by its writes and queries
// (pg_store_writes.cc, pg_store_queries.cc) so that both read a row the
// same way: a migrations row <-> MigrationRecord, its messages and events,
// and whether a lease holder has ended. The PostgreSQL counterpart of
// migration_rows.h and lease_holder_rows.h.
//
// Free functions over a caller's connection; as thread-safe as that
// connection (one thread at a time).
#ifndef MIMI_STORE_PG_PG_ROWS_H_
#define MIMI_STORE_PG_PG_ROWS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "store/migration_rows.h"
#include "store/pg/pg_connection.h"
#include "store/records.h"

namespace mimi::store::pg {

// The columns RowToRecord reads, in its order (no message).
extern const char* const kRecordColumns;

// Row `row` of a result whose first columns are kRecordColumns. Unknown
// role or state names are errors, not guesses.
Result<MigrationRecord> RowToRecord(const PgResult& r, int row);
Result<std::vector<MigrationRecord>> AllRows(const PgResult& r);

// The row (id, role); kNotFound if there is none. `for_update` locks it
// until the transaction ends.
Result<MigrationRecord> GetRow(PgConnection& c, std::string_view id, Role role,
                               bool for_update = false);

// Stores the non-empty messages of the row in one statement.
Status InsertMessages(PgConnection& c, std::string_view id, Role role,
                      std::span<const StoredMessage> messages);
// The row's message of `kind`; empty if it has none.
Result<Bytes> ReadMessage(PgConnection& c, std::string_view id, Role role,
                          MessageKind kind);
// Fills the fields of `record` named by `messages`.
Status LoadMessages(PgConnection& c, MessageSet messages,
                    MigrationRecord& record);
Status InsertEvent(PgConnection& c, std::string_view id, Role role,
                   std::optional<MigrationState> from, MigrationState to,
                   UnixMillis at, std::string_view detail);

// As HolderHasEnded in lease_holder_rows.h.
Result<bool> PgHolderHasEnded(PgConnection& c, std::string_view holder);

}  // namespace mimi::store::pg

#endif  // MIMI_STORE_PG_PG_ROWS_H_
