#include "store/sqlite_stream_connections.h"

#include <SQLiteCpp/Database.h>

#include <utility>

namespace mimi::store {

StreamConnections::Connection::Connection() = default;
StreamConnections::Connection::~Connection() = default;

std::unique_ptr<StreamConnections::Connection> StreamConnections::Take() {
  {
    MutexLock lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<Connection>();
  c->db = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READONLY,
                                             busy_timeout_ms_);
  c->statements = std::make_unique<StatementCache>(*c->db);
  return c;
}

void StreamConnections::Give(std::unique_ptr<Connection> c) {
  MutexLock lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
}

}  // namespace mimi::store
