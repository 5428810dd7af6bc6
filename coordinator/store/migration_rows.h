// The store's row mapping: a row of the migrations table <-> MigrationRecord,
// and the event rows each creation and transition appends. Used by the
// store's writes (sqlite_store_writes.cc) and queries
// (sqlite_store_queries.cc) so that the two read a row the same way.
//
// Free functions over a caller's connection; as thread-safe as that
// connection. They throw what SQLiteCpp throws: callers run them under
// Guarded (sqlite_status.h).
#ifndef MIMI_STORE_MIGRATION_ROWS_H_
#define MIMI_STORE_MIGRATION_ROWS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"
#include "store/records.h"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace mimi::store {

// "SELECT <every column RowToRecord reads> FROM migrations <where>": the
// row without its messages (migration_messages).
std::string SelectMigrations(std::string_view where);

// Reads the current row of a SelectMigrations statement. Unknown role or
// state names mean the file was written by something else; they are
// errors, not guesses.
Result<MigrationRecord> RowToRecord(SQLite::Statement& q);

// Every remaining row of a SelectMigrations statement.
Result<std::vector<MigrationRecord>> AllRows(SQLite::Statement& q);

// The row (id, role); kNotFound if there is none.
Result<MigrationRecord> GetRow(SQLite::Database& db, std::string_view id,
                               Role role);

// One message to store: its kind and wire bytes.
struct StoredMessage {
  MessageKind kind;
  ByteSpan body;
};

// Stores the messages of the row (id, role), in one statement; an empty
// body stores nothing ("not yet"). A second message of the same kind is a
// constraint error: messages are written once.
void InsertMessages(SQLite::Database& db, std::string_view id, Role role,
                    std::span<const StoredMessage> messages);

// The row's message of `kind`; empty if it has none.
Bytes ReadMessage(SQLite::Database& db, std::string_view id, Role role,
                  MessageKind kind);

// Fills the fields of `record` named by `messages` (the others stay as
// they are) from its stored messages.
void LoadMessages(SQLite::Database& db, MessageSet messages,
                  MigrationRecord& record);

// Appends the event of a creation (`from` unset) or transition.
void InsertEvent(SQLite::Database& db, std::string_view id, Role role,
                 std::optional<MigrationState> from, MigrationState to,
                 UnixMillis at, std::string_view detail);

// "source migration <id>", for errors.
std::string Describe(std::string_view id, Role role);

}  // namespace mimi::store

#endif  // MIMI_STORE_MIGRATION_ROWS_H_
