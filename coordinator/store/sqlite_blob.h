// Byte strings in and out of SQLite BLOB columns, for the store and the
// embedded DS alike (they bind the same way).
//
// Binding is without a copy: every statement that binds bytes runs and is
// finalised while the bytes it binds are alive, and a copy of a content or
// ratchet tree (tens of MiB for a large group) would add to the peak memory
// of an export or import. Free functions; as thread-safe as the statement.
#ifndef MIMI_STORE_SQLITE_BLOB_H_
#define MIMI_STORE_SQLITE_BLOB_H_

#include "mimi_portability/bytes.h"

namespace SQLite {
class Column;
class Statement;
}  // namespace SQLite

namespace mimi::store {

// For NOT NULL columns: empty bytes bind an empty BLOB (a null data pointer
// would bind SQL NULL, and an empty MLS group id is legal on the wire).
void BindBlob(SQLite::Statement& stmt, int index, ByteSpan bytes);

// Empty bytes bind SQL NULL: "this message is not there yet".
void BindBlobOrNull(SQLite::Statement& stmt, int index, ByteSpan bytes);

// A copy of the column's bytes; NULL reads as empty.
Bytes ColumnBytes(const SQLite::Column& column);

}  // namespace mimi::store

#endif  // MIMI_STORE_SQLITE_BLOB_H_
