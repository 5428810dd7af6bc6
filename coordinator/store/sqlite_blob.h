// Byte strings in and out of SQLite BLOB columns, for the store and the
// embedded DS alike (they bind the same way).
//
// Binding is without a copy: every statement that binds bytes runs and is
// finalised while the bytes it binds are alive, and a copy of a content or
// ratchet tree (tens of MiB for a large group) would add to the peak memory
// of an export or import. Large blobs go further: SQLite copies a bound
// value into the record it builds, so a blob of kIncrementalBlobBytes or
// more is inserted as a zeroblob of its length (never materialised, when it
// is the row's last column) and then written in place with incremental blob
// I/O (WriteBlobInPlace) in the same transaction. Free functions; as
// thread-safe as the statement or connection.
#ifndef MIMI_STORE_SQLITE_BLOB_H_
#define MIMI_STORE_SQLITE_BLOB_H_

#include "mimi_portability/bytes.h"

#include <cstdint>
#include <span>

namespace SQLite {
class Column;
class Database;
class Statement;
}  // namespace SQLite

namespace mimi::store {

// For NOT NULL columns: empty bytes bind an empty BLOB (a null data pointer
// would bind SQL NULL, and an empty MLS group id is legal on the wire).
void BindBlob(SQLite::Statement& stmt, int index, ByteSpan bytes);

// Empty bytes bind SQL NULL: "this message is not there yet".
void BindBlobOrNull(SQLite::Statement& stmt, int index, ByteSpan bytes);

// From this size on a blob is written in place rather than bound.
inline constexpr size_t kIncrementalBlobBytes = size_t{1} << 20;

// Whether `bytes` is stored in place: the statement inserts
// zeroblob(size) (SQL `zeroblob(?N)` with the size bound) and the caller
// fills the row's column with WriteBlobInPlace before its transaction ends.
// Only for a table's last column (otherwise SQLite builds the zeros in
// memory).
inline bool WritesInPlace(ByteSpan bytes) {
  return bytes.size() >= kIncrementalBlobBytes;
}

// Writes `bytes` over the blob column `column` of `table`'s row `rowid`,
// which must be exactly bytes.size() long, in chunks; throws
// SQLite::Exception like a statement would.
void WriteBlobInPlace(SQLite::Database& db, const char* table,
                      const char* column, int64_t rowid, ByteSpan bytes);

// Reads out.size() bytes of the blob column `column` of `table`'s row
// `rowid` from its start into `out`, within the connection's current
// transaction; throws SQLite::Exception like a statement would.
void ReadBlob(SQLite::Database& db, const char* table, const char* column,
              int64_t rowid, std::span<uint8_t> out);

// A copy of the column's bytes; NULL reads as empty.
Bytes ColumnBytes(const SQLite::Column& column);

}  // namespace mimi::store

#endif  // MIMI_STORE_SQLITE_BLOB_H_
