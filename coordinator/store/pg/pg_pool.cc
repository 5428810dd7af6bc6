#include "store/pg/pg_pool.h"

#include <chrono>

namespace mimi::store::pg {

PgPool::Handle::~Handle() {
  if (c_ != nullptr) pool_->Return(std::move(c_));
}

Result<std::shared_ptr<PgPool>> PgPool::Open(PgPoolOptions options) {
  if (options.max_connections < 1) {
    return InvalidArgumentError("store: max_connections must be at least 1");
  }
  std::shared_ptr<PgPool> pool(new PgPool(std::move(options)));
  MIMI_ASSIGN_OR_RETURN(Handle first, pool->Acquire());
  (void)first;
  return pool;
}

Result<PgPool::Handle> PgPool::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(options_.acquire_timeout_ms);
  {
    MutexLock lock(mu_);
    while (idle_.empty() && open_ >= options_.max_connections) {
      if (!freed_.WaitUntil(mu_, deadline) && idle_.empty() &&
          open_ >= options_.max_connections) {
        return UnavailableError(
            "all " + std::to_string(options_.max_connections) +
            " postgresql connections are busy");
      }
    }
    if (!idle_.empty()) {
      std::unique_ptr<PgConnection> c = std::move(idle_.back());
      idle_.pop_back();
      return Handle(this, std::move(c));
    }
    ++open_;  // reserved while connecting outside the lock
  }
  auto c = PgConnection::Open(options_.connect);
  if (!c.ok()) {
    MutexLock lock(mu_);
    --open_;
    freed_.NotifyOne();
    return c.status();
  }
  return Handle(this, std::move(c).value());
}

void PgPool::Return(std::unique_ptr<PgConnection> c) {
  MutexLock lock(mu_);
  if (c->broken()) {
    --open_;
  } else {
    idle_.push_back(std::move(c));
  }
  freed_.NotifyOne();
}

int PgPool::OpenConnectionsForTesting() {
  MutexLock lock(mu_);
  return open_;
}

}  // namespace mimi::store::pg
