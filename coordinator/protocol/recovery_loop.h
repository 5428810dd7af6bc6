// RecoveryLoop: on start and then every scan interval, finds the migrations
// whose next attempt is due (store.ListDue: time reached, lease free) and
// drives each forward from its persisted state on the worker queue: source
// rows through SourceService::Drive, target rows through
// TargetService::ExpireIfDue. It also turns source migrations older than
// recovery.auto_abort_after_seconds into aborts, when that is configured.
//
// Back-off, stall marking and leases live in the services; the loop only
// schedules, and never schedules a row that is already queued or running in
// this process. Start/Stop/ScanOnce are thread-safe.
#ifndef MIMI_PROTOCOL_RECOVERY_LOOP_H_
#define MIMI_PROTOCOL_RECOVERY_LOOP_H_

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "protocol/source_service.h"
#include "protocol/target_service.h"

namespace mimi::protocol {

class RecoveryLoop {
 public:
  RecoveryLoop(const ProtocolContext& ctx, SourceService& source,
               TargetService& target, WorkQueue& workers)
      : ctx_(ctx), source_(source), target_(target), workers_(workers) {}
  ~RecoveryLoop() { Stop(); }

  void Start();
  void Stop();
  // One scan; returns how many rows it scheduled.
  Result<int> ScanOnce();

 private:
  void Run();
  void Schedule(const store::MigrationRecord& row);

  const ProtocolContext& ctx_;
  SourceService& source_;
  TargetService& target_;
  WorkQueue& workers_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::set<std::string> in_flight_;  // "role/id"
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_RECOVERY_LOOP_H_
