// StatementCache and CachedStatement: prepared statements kept per SQLite
// connection, so that the hot path does not parse and plan the same SQL on
// every call (SQLite's parser and planner were 3-5% of the coordinator's CPU
// in the throughput profile, docs/performance.md).
//
// The owner of a connection that serves the hot path (the writer's, the
// store's reader) keeps a StatementCache beside it, declared after it so
// that it is destroyed first: the cache registers itself under the
// connection's sqlite3 handle and finalizes its statements before the
// connection closes. Code that runs SQL only gets a `SQLite::Database&`, so
// it asks for a statement with
//
//   CachedStatement q(db, "SELECT ... WHERE id = ?1");
//   q->bind(1, id);
//   while (q->executeStep()) ...
//
// which takes the cached statement of that text on that connection, or
// prepares a fresh one when the connection has no cache (tests, tools,
// `store copy`), when the statement of that text is already in use further
// up the stack, or when the cache is full (kMaxStatements texts: queries
// built from filters make a bounded but open set). On destruction the
// statement is reset and its bindings cleared, which ends its read of the
// database and drops the pointers bindNoCopy gave it.
//
// Thread-safety: the registry of caches is guarded by a mutex, so caches
// may be created and destroyed on any thread. A cache and its statements
// are as thread-safe as their connection: used by one thread at a time
// (the writer thread, or whoever holds the reader's mutex).
#ifndef MIMI_STORE_SQLITE_STATEMENT_CACHE_H_
#define MIMI_STORE_SQLITE_STATEMENT_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace mimi::store {

class StatementCache {
 public:
  static constexpr size_t kMaxStatements = 128;

  // Registers the cache for `db`; at most one per connection.
  explicit StatementCache(SQLite::Database& db);
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // Counters for tests and the benchmark: statements prepared into the
  // cache, and uses served from it.
  // Safe to read from any thread.
  uint64_t prepared() const {
    return prepared_.load(std::memory_order_relaxed);
  }
  uint64_t reused() const { return reused_.load(std::memory_order_relaxed); }

 private:
  friend class CachedStatement;
  struct Entry {
    std::unique_ptr<SQLite::Statement> statement;
    bool in_use = false;
  };

  SQLite::Database& db_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::atomic<uint64_t> prepared_{0};
  std::atomic<uint64_t> reused_{0};
};

class CachedStatement {
 public:
  // Throws what SQLiteCpp throws when preparing fails (callers run under
  // store::Guarded, as for SQLite::Statement).
  CachedStatement(SQLite::Database& db, std::string_view sql);
  ~CachedStatement();
  CachedStatement(const CachedStatement&) = delete;
  CachedStatement& operator=(const CachedStatement&) = delete;

  SQLite::Statement& operator*() const { return *statement_; }
  SQLite::Statement* operator->() const { return statement_; }

 private:
  SQLite::Statement* statement_ = nullptr;
  // Set when the statement came from a cache; otherwise owned_ holds it.
  StatementCache::Entry* entry_ = nullptr;
  std::unique_ptr<SQLite::Statement> owned_;
};

}  // namespace mimi::store

#endif  // MIMI_STORE_SQLITE_STATEMENT_CACHE_H_
