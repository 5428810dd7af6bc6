// Deliberately wrong: reads and writes a GUARDED_BY member without its
// mutex. Never built; tools/thread_safety_check compiles it with clang's
// -Wthread-safety and fails unless clang refuses it, which proves that the
// analysis runs over the annotated code.
#include "codec/mutex.h"

namespace mimi {
namespace {

class Counter {
 public:
  void Add() {
    MutexLock lock(mu_);
    ++count_;
  }
  int Racy() { return ++count_; }  // no lock: clang must refuse this

 private:
  Mutex mu_;
  int count_ GUARDED_BY(mu_) = 0;
};

}  // namespace

int ThreadSafetyViolation() {
  Counter c;
  c.Add();
  return c.Racy();
}

}  // namespace mimi
