// PgPool: a bounded pool of PostgreSQL connections (pg_connection.h) and
// the one way the PostgreSQL store runs a transaction (Transact).
//
// At most max_connections are open at once; a caller that finds them all
// busy waits up to acquire_timeout_ms, then gets kUnavailable (retry), so a
// slow server cannot pile up threads without bound. Connections are opened
// on demand and kept; one found broken (the server restarted, the network
// broke) is closed instead of being handed out again, and the next
// Acquire opens a fresh one. Transact retries a transaction the server
// rolled back for a serialization failure or a deadlock (nothing of it
// was committed), and one whose BEGIN found its idle connection dead.
//
// Thread-safe.
#ifndef MIMI_STORE_PG_PG_POOL_H_
#define MIMI_STORE_PG_PG_POOL_H_

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "codec/mutex.h"
#include "mimi_portability/status.h"
#include "store/pg/pg_connection.h"
#include "store/pg/pg_status.h"

namespace mimi::store::pg {

struct PgPoolOptions {
  PgConnectOptions connect;
  int max_connections = 4;
  int acquire_timeout_ms = 5000;
};

class PgPool {
 public:
  // A connection lent by the pool; given back (or dropped, if broken) by
  // the destructor.
  class Handle {
   public:
    Handle(PgPool* pool, std::unique_ptr<PgConnection> c)
        : pool_(pool), c_(std::move(c)) {}
    ~Handle();
    Handle(Handle&& other) noexcept = default;
    Handle& operator=(Handle&&) = delete;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    PgConnection& operator*() const { return *c_; }
    PgConnection* operator->() const { return c_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> c_;
  };

  // Opens one connection at once, so that a wrong URL or password is
  // reported when the store opens and not at its first write.
  static Result<std::shared_ptr<PgPool>> Open(PgPoolOptions options);

  Result<Handle> Acquire();

  // Runs `f(PgConnection&)` (returning Status or Result<T>) in a
  // transaction opened with `begin` and commits it when `f` succeeds; an
  // error from `f` rolls everything back.
  template <typename F>
  auto Transact(std::string_view what, F&& f,
                const std::string& begin = "BEGIN")
      -> std::invoke_result_t<F&, PgConnection&>;

  // Connections open now (lent or idle), for tests.
  int OpenConnectionsForTesting();

 private:
  explicit PgPool(PgPoolOptions options) : options_(std::move(options)) {}
  void Return(std::unique_ptr<PgConnection> c);

  static constexpr int kAttempts = 4;

  const PgPoolOptions options_;
  Mutex mu_;
  CondVar freed_;
  std::vector<std::unique_ptr<PgConnection>> idle_ GUARDED_BY(mu_);
  int open_ GUARDED_BY(mu_) = 0;
};

template <typename F>
auto PgPool::Transact(std::string_view what, F&& f, const std::string& begin)
    -> std::invoke_result_t<F&, PgConnection&> {
  using R = std::invoke_result_t<F&, PgConnection&>;
  Status last = UnavailableError(std::string(what) + ": not attempted");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    MIMI_ASSIGN_OR_RETURN(Handle c, Acquire());
    auto tx = PgTransaction::Begin(*c, begin);
    if (!tx.ok()) {
      // Nothing was sent but BEGIN: safe to run again on a new connection
      // when this one had died while idle.
      if (c->broken()) {
        last = tx.status();
        continue;
      }
      return tx.status();
    }
    R out = f(*c);
    Status s = out.ok() ? tx->Commit() : StatusOf(out);
    if (s.ok()) return out;
    if (!IsRetryableSqlState(c->last_sqlstate())) return s;
    last = s;
  }
  return last;
}

}  // namespace mimi::store::pg

#endif  // MIMI_STORE_PG_PG_POOL_H_
