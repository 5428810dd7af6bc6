#include "store/sqlite_statement_cache.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <unordered_map>
#include <utility>

#include "codec/mutex.h"

namespace mimi::store {
namespace {

// Which connection has which cache. Keyed by the sqlite3 handle, which
// stays the same for the connection's life; a cache leaves the registry
// before its connection closes, so a handle reused by a later connection
// never finds a stale cache.
struct Registry {
  Mutex mu;
  std::unordered_map<const sqlite3*, StatementCache*> caches GUARDED_BY(mu);
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // never destroyed: used at exit
  return *registry;
}

StatementCache* CacheOf(const SQLite::Database& db) {
  Registry& r = TheRegistry();
  MutexLock lock(r.mu);
  auto it = r.caches.find(db.getHandle());
  return it == r.caches.end() ? nullptr : it->second;
}

}  // namespace

StatementCache::StatementCache(SQLite::Database& db) : db_(db) {
  Registry& r = TheRegistry();
  MutexLock lock(r.mu);
  r.caches[db_.getHandle()] = this;
}

StatementCache::~StatementCache() {
  Registry& r = TheRegistry();
  MutexLock lock(r.mu);
  r.caches.erase(db_.getHandle());
  // entries_ go after this, finalizing their statements while the
  // connection is still open.
}

CachedStatement::CachedStatement(SQLite::Database& db, std::string_view sql) {
  StatementCache* cache = CacheOf(db);
  if (cache != nullptr) {
    auto it = cache->entries_.find(sql);
    if (it != cache->entries_.end()) {
      if (!it->second.in_use) {
        entry_ = &it->second;
        cache->reused_.fetch_add(1, std::memory_order_relaxed);
      }
    } else if (cache->entries_.size() < StatementCache::kMaxStatements) {
      auto statement =
          std::make_unique<SQLite::Statement>(db, std::string(sql));
      entry_ = &cache->entries_
                    .emplace(std::string(sql),
                             StatementCache::Entry{std::move(statement)})
                    .first->second;
      cache->prepared_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (entry_ != nullptr) {
    entry_->in_use = true;
    statement_ = entry_->statement.get();
  } else {
    owned_ = std::make_unique<SQLite::Statement>(db, std::string(sql));
    statement_ = owned_.get();
  }
}

CachedStatement::~CachedStatement() {
  if (entry_ == nullptr) return;
  // Ends the statement's read and forgets bound pointers. Neither call can
  // fail in a way that matters here: tryReset returns the last step's
  // error, which the user of the statement has already seen, and
  // sqlite3_clear_bindings always succeeds.
  statement_->tryReset();
  try {
    statement_->clearBindings();
  } catch (...) {
  }
  entry_->in_use = false;
}

}  // namespace mimi::store
