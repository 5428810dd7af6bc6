#include "store/sqlite_blob.h"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

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

Bytes ColumnBytes(const SQLite::Column& column) {
  if (column.isNull()) return {};
  const auto* p = static_cast<const uint8_t*>(column.getBlob());
  return Bytes(p, p + column.getBytes());
}

}  // namespace mimi::store
