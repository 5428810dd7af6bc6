#include "store/sqlite_blob.h"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>

namespace mimi::store {

void BindBlob(SQLite::Statement& stmt, int index, ByteSpan bytes) {
  static const uint8_t kEmpty = 0;
  stmt.bindNoCopy(index, bytes.empty() ? &kEmpty : bytes.data(),
                  static_cast<int>(bytes.size()));
}

void BindBlobOrNull(SQLite::Statement& stmt, int index, ByteSpan bytes) {
  if (bytes.empty()) {
    stmt.bind(index);
  } else {
    stmt.bindNoCopy(index, bytes.data(), static_cast<int>(bytes.size()));
  }
}

void WriteBlobInPlace(SQLite::Database& db, const char* table,
                      const char* column, int64_t rowid, ByteSpan bytes) {
  sqlite3* handle = db.getHandle();
  sqlite3_blob* blob = nullptr;
  int rc = sqlite3_blob_open(handle, "main", table, column, rowid, 1, &blob);
  if (rc != SQLITE_OK) {
    sqlite3_blob_close(blob);
    throw SQLite::Exception(handle, rc);
  }
  // Chunks of a page-cache friendly size; the pages go to the WAL at commit
  // (or spill earlier), never as one record-sized copy.
  constexpr size_t kChunk = size_t{1} << 20;
  for (size_t off = 0; off < bytes.size() && rc == SQLITE_OK; off += kChunk) {
    const size_t n = std::min(kChunk, bytes.size() - off);
    rc = sqlite3_blob_write(blob, bytes.data() + off, static_cast<int>(n),
                            static_cast<int>(off));
  }
  const int close_rc = sqlite3_blob_close(blob);
  if (rc == SQLITE_OK) rc = close_rc;
  if (rc != SQLITE_OK) throw SQLite::Exception(handle, rc);
}

void ReadBlob(SQLite::Database& db, const char* table, const char* column,
              int64_t rowid, std::span<uint8_t> out) {
  sqlite3* handle = db.getHandle();
  sqlite3_blob* blob = nullptr;
  int rc = sqlite3_blob_open(handle, "main", table, column, rowid, 0, &blob);
  if (rc != SQLITE_OK) {
    sqlite3_blob_close(blob);
    throw SQLite::Exception(handle, rc);
  }
  constexpr size_t kChunk = size_t{1} << 20;
  for (size_t off = 0; off < out.size() && rc == SQLITE_OK; off += kChunk) {
    const size_t n = std::min(kChunk, out.size() - off);
    rc = sqlite3_blob_read(blob, out.data() + off, static_cast<int>(n),
                           static_cast<int>(off));
  }
  const int close_rc = sqlite3_blob_close(blob);
  if (rc == SQLITE_OK) rc = close_rc;
  if (rc != SQLITE_OK) throw SQLite::Exception(handle, rc);
}

Bytes ColumnBytes(const SQLite::Column& column) {
  if (column.isNull()) return {};
  const auto* p = static_cast<const uint8_t*>(column.getBlob());
  return Bytes(p, p + column.getBytes());
}

}  // namespace mimi::store
