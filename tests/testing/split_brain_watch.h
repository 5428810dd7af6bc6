// SplitBrainWatch: while daemons crash and restart under migrating groups,
// asks both DSs over and over whether each group accepts commits, and
// records every moment at which both did. A group that accepts commits on
// two DSs at once can fork: that is the one outcome a migration must never
// have, whatever is killed when (issue 19 item 3).
//
// "Accepts commits" is what a member sees: GET /ds/v1/groups/{id} answers
// 200 with "frozen": false. Two answers are never taken at one instant, so
// each probe asks the target first, then the source. The target's answer
// can only go from "no" to "yes" during a migration (it imports once and
// nothing moves the group away again in these tests), so a target that
// accepted at t1 still accepts at t2 > t1; if the source accepts at t2,
// both accepted at t2. The check has no false alarm under that assumption,
// and can miss an overlap shorter than a probe.
//
// A daemon that is down answers nothing: that group is skipped for that
// probe. The watching thread starts at construction and ends at Stop() or
// destruction. Thread-safe.
#ifndef MIMI_TESTING_SPLIT_BRAIN_WATCH_H_
#define MIMI_TESTING_SPLIT_BRAIN_WATCH_H_

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "codec/mutex.h"
#include "mimi_portability/bytes.h"
#include "testing/portd_process.h"

namespace mimi::testing {

class SplitBrainWatch {
 public:
  SplitBrainWatch(const PortdPair& pair, std::vector<Bytes> group_ids);
  ~SplitBrainWatch();
  SplitBrainWatch(const SplitBrainWatch&) = delete;
  SplitBrainWatch& operator=(const SplitBrainWatch&) = delete;

  void Stop();
  // One line per probe that found both DSs accepting a group.
  std::vector<std::string> Violations() const EXCLUDES(mu_);
  // Probes in which both daemons answered, so the check was made.
  int64_t checked() const { return checked_.load(); }

 private:
  void Run();

  const PortdPair& pair_;
  const std::vector<Bytes> group_ids_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> checked_{0};
  mutable Mutex mu_;
  std::vector<std::string> violations_ GUARDED_BY(mu_);
  std::thread thread_;  // last: starts after the members above
};

}  // namespace mimi::testing

#endif  // MIMI_TESTING_SPLIT_BRAIN_WATCH_H_
