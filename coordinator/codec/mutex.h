// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// clang's thread-safety annotations (codec/thread_annotations.h), which
// libstdc++'s own types do not carry. A class declares
//
//   mutable Mutex mu_;
//   int count_ GUARDED_BY(mu_);
//
// and takes it with `MutexLock lock(mu_);`; clang then refuses an access to
// count_ without it. Waiting is a loop over the condition, so that the
// analysis sees the guarded reads with the lock held (a predicate lambda
// would be analysed as a function of its own):
//
//   while (!ready_) cv_.Wait(mu_);
//
// Same semantics and cost as the std types; Mutex is not recursive. All
// three are thread-safe as their std counterparts are.
#ifndef MIMI_CODEC_MUTEX_H_
#define MIMI_CODEC_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "codec/thread_annotations.h"

namespace mimi {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu` while blocked and holds it again on return, which may be
  // spurious: callers wait in a loop over their condition.
  void Wait(Mutex& mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held; the caller's MutexLock releases it
  }
  // As Wait, until `deadline` at the latest; false once it has passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex& mu,
                 const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    const bool woken =
        cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }
  template <typename Rep, typename Period>
  bool WaitFor(Mutex& mu, const std::chrono::duration<Rep, Period>& timeout)
      REQUIRES(mu) {
    return WaitUntil(mu, std::chrono::steady_clock::now() + timeout);
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace mimi

#endif  // MIMI_CODEC_MUTEX_H_
