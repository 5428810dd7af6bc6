// SqliteStore::OpenMessage: a stored message read through an incremental
// blob handle on a connection of its own (message_stream.h), so that a long
// send holds neither the store's read mutex nor any lock a writer waits for.
// The connections are reused from stream to stream (StreamConnections).
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>

#include "store/migration_rows.h"
#include "store/sqlite_statement_cache.h"
#include "store/sqlite_status.h"
#include "store/sqlite_store.h"
#include "store/sqlite_stream_connections.h"

namespace mimi::store {

namespace {

class SqliteMessageStream final : public MessageStream {
 public:
  SqliteMessageStream(std::shared_ptr<StreamConnections> pool,
                      std::unique_ptr<StreamConnections::Connection> c,
                      sqlite3_blob* blob, uint64_t size, std::string what)
      : pool_(std::move(pool)),
        c_(std::move(c)),
        blob_(blob),
        size_(size),
        what_(std::move(what)) {}
  ~SqliteMessageStream() override {
    // Closing the blob ends its read transaction: the connection goes back
    // idle, holding no snapshot.
    if (blob_ != nullptr) sqlite3_blob_close(blob_);
    pool_->Give(std::move(c_));
  }

  uint64_t size() const override { return size_; }

  Status Read(uint64_t offset, std::span<uint8_t> out) override {
    if (offset > size_ || out.size() > size_ - offset) {
      return InvalidArgumentError(what_ + ": read past its " +
                                  std::to_string(size_) + " bytes");
    }
    if (out.empty()) return Status::Ok();
    return Guarded("reading " + what_, [&]() -> Status {
      const int rc = sqlite3_blob_read(blob_, out.data(),
                                       static_cast<int>(out.size()),
                                       static_cast<int>(offset));
      if (rc != SQLITE_OK) throw SQLite::Exception(sqlite3_errstr(rc), rc);
      return Status::Ok();
    });
  }

 private:
  const std::shared_ptr<StreamConnections> pool_;
  std::unique_ptr<StreamConnections::Connection> c_;
  sqlite3_blob* blob_;
  const uint64_t size_;
  const std::string what_;
};

}  // namespace

Result<std::unique_ptr<MessageStream>> SqliteStore::OpenMessage(
    std::string_view id, Role role, MessageKind kind) {
  const std::shared_ptr<StreamConnections>& pool = stream_connections_;
  const std::string what = "the " + std::string(MessageKindName(kind)) +
                           " of " + Describe(id, role);
  return Guarded(
      "opening " + what, [&]() -> Result<std::unique_ptr<MessageStream>> {
        // Read-only and separate: a stream lives as long as a send, and the
        // store's own read connection must stay free for everyone else.
        std::unique_ptr<StreamConnections::Connection> c = pool->Take();
        int64_t rowid = 0;
        int64_t size = 0;
        {
          CachedStatement q(*c->db,
                            "SELECT m.rowid, length(m.body) FROM migrations r "
                            "LEFT JOIN migration_messages m ON m.id = r.id "
                            "AND m.role = r.role AND m.kind = ?3 "
                            "WHERE r.id = ?1 AND r.role = ?2");
          q->bind(1, std::string(id));
          q->bind(2, std::string(RoleName(role)));
          q->bind(3, std::string(MessageKindName(kind)));
          if (!q->executeStep()) {
            pool->Give(std::move(c));
            return NotFoundError("no " + Describe(id, role));
          }
          if (q->getColumn(0).isNull()) {
            // Ends the statement's read before the connection waits idle.
            q->reset();
            return std::unique_ptr<MessageStream>(
                new SqliteMessageStream(pool, std::move(c), nullptr, 0, what));
          }
          rowid = q->getColumn(0).getInt64();
          size = q->getColumn(1).getInt64();
        }  // the statement is reset here, before the blob opens
        sqlite3_blob* blob = nullptr;
        const int rc =
            sqlite3_blob_open(c->db->getHandle(), "main", "migration_messages",
                              "body", rowid, 0, &blob);
        if (rc != SQLITE_OK) {
          sqlite3_blob_close(blob);
          throw SQLite::Exception(c->db->getHandle(), rc);
        }
        return std::unique_ptr<MessageStream>(new SqliteMessageStream(
            pool, std::move(c), blob, static_cast<uint64_t>(size), what));
      });
}

}  // namespace mimi::store
