// Opening a SqliteStore and what it shares with both halves: the read
// connection and the writer. Its writes are in sqlite_store_writes.cc, its
// queries in sqlite_store_queries.cc.
#include "store/sqlite_store.h"

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include <filesystem>
#include <utility>

#include "store/open_lock.h"
#include "store/schema_upgrade.h"
#include "store/sqlite_status.h"
#include "store/sqlite_stream_connections.h"

namespace mimi::store {
namespace {

// A file: URI for `path`: the characters URIs give meaning to are escaped
// so that any file name reaches SQLite unchanged.
std::string FileUri(const std::string& path, std::string_view query) {
  std::string uri = "file:";
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?" + std::string(query);
}

}  // namespace

SqliteStore::SqliteStore(std::shared_ptr<SqliteWriter> writer,
                         std::unique_ptr<SQLite::Database> reader,
                         const Clock& clock)
    : writer_(std::move(writer)),
      reader_(std::move(reader)),
      reader_statements_(std::make_unique<StatementCache>(*reader_)),
      stream_connections_(std::make_shared<StreamConnections>(
          reader_->getFilename(), writer_ ? writer_->busy_timeout_ms() : 5000)),
      clock_(clock) {}

SqliteStore::~SqliteStore() = default;

Status SqliteStore::CheckWritable() const {
  if (writer_) return Status::Ok();
  return Status(StatusCode::kFailedPrecondition,
                "the store was opened read-only");
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, const Clock& clock, SqliteStoreOptions options) {
  SqliteWriterOptions wo;
  wo.busy_timeout_ms = options.busy_timeout_ms;
  wo.vfs = options.vfs;
  MIMI_ASSIGN_OR_RETURN(std::shared_ptr<SqliteWriter> writer,
                        SqliteWriter::Open(path, wo));
  return Open(std::move(writer), clock);
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    std::shared_ptr<SqliteWriter> writer, const Clock& clock) {
  if (!writer) return InvalidArgumentError("no writer for the store");
  const std::string& path = writer->path();
  return Guarded(
      "opening " + path, [&]() -> Result<std::unique_ptr<SqliteStore>> {
        // Read-write, so that it may recover a WAL left by a crash; it is
        // only ever used for reads.
        auto reader = std::make_unique<SQLite::Database>(
            path, SQLite::OPEN_READWRITE, writer->busy_timeout_ms(),
            writer->vfs());
        reader->exec("PRAGMA query_only = ON");
        MIMI_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*reader));
        if (version != LatestSchemaVersion()) {
          return Status(StatusCode::kFailedPrecondition,
                        path + ": schema version " + std::to_string(version) +
                            ", expected " +
                            std::to_string(LatestSchemaVersion()) +
                            " (open the writer with upgrade_schema)");
        }
        return std::unique_ptr<SqliteStore>(
            new SqliteStore(std::move(writer), std::move(reader), clock));
      });
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::OpenReadOnly(
    const std::string& path, const Clock& clock, SqliteStoreOptions options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFoundError(path + ": no database file");
  }
  // A file being created right now is not looked at half set up.
  MIMI_ASSIGN_OR_RETURN(
      OpenLock open_lock,
      OpenLock::Acquire(path, OpenLock::Mode::kShared,
                        std::chrono::milliseconds(options.busy_timeout_ms)));
  return Guarded(
      "opening " + path + " read-only",
      [&]() -> Result<std::unique_ptr<SqliteStore>> {
        auto db = std::make_unique<SQLite::Database>(
            FileUri(path, "mode=ro"), SQLite::OPEN_READONLY | SQLite::OPEN_URI,
            options.busy_timeout_ms, options.vfs);
        MIMI_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*db));
        if (version == 0) {
          return Status(StatusCode::kFailedPrecondition,
                        path +
                            ": not a mimi-portability database (schema "
                            "version 0)");
        }
        if (version > LatestSchemaVersion()) {
          return Status(StatusCode::kFailedPrecondition,
                        path + ": database schema version " +
                            std::to_string(version) +
                            " is newer than this binary's " +
                            std::to_string(LatestSchemaVersion()));
        }
        return std::unique_ptr<SqliteStore>(
            new SqliteStore(nullptr, std::move(db), clock));
      });
}

Result<std::string> SqliteStore::ReadPragma(std::string_view name) {
  // PRAGMA names cannot be bound, so only identifiers get through.
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") !=
                          std::string::npos) {
    return InvalidArgumentError("not a pragma name: " + std::string(name));
  }
  auto read = [&](SQLite::Database& db) -> Result<std::string> {
    return Guarded("reading PRAGMA " + std::string(name), [&] {
      return Result<std::string>(
          db.execAndGet("PRAGMA " + std::string(name)).getString());
    });
  };
  // The settings that matter are the write connection's.
  if (writer_) return writer_->Write(read);
  MutexLock lock(read_mu_);
  SQLite::Database& reader = *reader_;
  return read(reader);
}

Result<int64_t> SqliteStore::PagesReadForTesting() {
  MutexLock lock(read_mu_);
  int current = 0;
  int highwater = 0;
  if (sqlite3_db_status(reader_->getHandle(), SQLITE_DBSTATUS_CACHE_MISS,
                        &current, &highwater, 0) != SQLITE_OK) {
    return InternalError("sqlite3_db_status failed");
  }
  return int64_t{current};
}

}  // namespace mimi::store
