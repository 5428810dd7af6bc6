// StreamConnections: the read-only connections SqliteStore::OpenMessage
// streams stored messages on (sqlite_message_stream.cc), kept for the next
// stream when one ends. Opening a connection parses the schema, and a fresh
// connection prepares its statement anew: together 3-4% of the throughput
// benchmark's CPU when every content send opened one (docs/performance.md).
// A stream takes an idle connection or a new one and gives it back when it
// ends; at most kMaxIdle wait, the rest close.
//
// Thread-safe. A Connection is used by one stream at a time. Streams hold
// the pool by shared_ptr, so one that outlives its store still gives its
// connection back safely.
#ifndef MIMI_STORE_SQLITE_STREAM_CONNECTIONS_H_
#define MIMI_STORE_SQLITE_STREAM_CONNECTIONS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "codec/mutex.h"
#include "store/sqlite_statement_cache.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace mimi::store {

class StreamConnections {
 public:
  struct Connection {
    Connection();
    ~Connection();
    std::unique_ptr<SQLite::Database> db;
    // After db, so that its statements are finalized first.
    std::unique_ptr<StatementCache> statements;
  };

  StreamConnections(std::string path, int busy_timeout_ms)
      : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}

  // An idle connection, or a new read-only one to the file. Throws what
  // SQLiteCpp throws when it cannot open one (callers run it Guarded).
  std::unique_ptr<Connection> Take() EXCLUDES(mu_);
  void Give(std::unique_ptr<Connection> c) EXCLUDES(mu_);

 private:
  static constexpr size_t kMaxIdle = 8;
  const std::string path_;
  const int busy_timeout_ms_;
  Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ GUARDED_BY(mu_);
};

}  // namespace mimi::store

#endif  // MIMI_STORE_SQLITE_STREAM_CONNECTIONS_H_
