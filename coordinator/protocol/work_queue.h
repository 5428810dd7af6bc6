// WorkQueue: a fixed set of worker threads running posted jobs, used to
// drive migrations off the request threads (so that a slow target turns
// into a 202, not a held connection) and by the recovery loop.
//
// Post() never blocks; Shutdown() finishes the jobs already posted and joins
// the workers. Each posted job is a hand-off from one thread to another (two
// context switches when the poster waits for it), so they are counted for
// the metrics and the throughput benchmark. Thread-safe.
#ifndef MIMI_PROTOCOL_WORK_QUEUE_H_
#define MIMI_PROTOCOL_WORK_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "codec/mutex.h"

namespace mimi::protocol {

class WorkQueue {
 public:
  explicit WorkQueue(size_t threads) {
    for (size_t i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { Run(); });
    }
  }
  ~WorkQueue() { Shutdown(); }
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // False once shut down (the job is dropped; recovery picks its row up).
  bool Post(std::function<void()> job) EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      if (stopping_) return false;
      jobs_.push_back(std::move(job));
    }
    posted_.fetch_add(1, std::memory_order_relaxed);
    cv_.NotifyOne();
    return true;
  }

  // Jobs accepted by Post() so far.
  uint64_t Posted() const { return posted_.load(std::memory_order_relaxed); }

  void Shutdown() EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      if (stopping_ && workers_.empty()) return;
      stopping_ = true;
    }
    cv_.NotifyAll();
    for (auto& t : workers_) {
      if (t.joinable()) t.join();
    }
    workers_.clear();
  }

 private:
  void Run() EXCLUDES(mu_) {
    for (;;) {
      std::function<void()> job;
      {
        MutexLock lock(mu_);
        while (!stopping_ && jobs_.empty()) cv_.Wait(mu_);
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> jobs_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> posted_{0};
  // Filled by the constructor, joined and cleared by Shutdown(), which its
  // owner does not call from two threads at once; not guarded by mu_.
  std::vector<std::thread> workers_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_WORK_QUEUE_H_
