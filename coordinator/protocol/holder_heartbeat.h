// HolderHeartbeat: keeps this process's lease holder alive in the store
// (docs/protocol.md §4 "Lease ownership"). Every recovery.heartbeat_ms it
// pushes the holder's alive_until to now + recovery.heartbeat_timeout_ms;
// a process that dies stops doing so, and its leases can be taken over once
// that time has passed (at once by a later incarnation of the same
// instance, which ends it at registration).
//
// When the store says the holder has ended (a later incarnation of the
// same instance id started: two processes share one id), the heartbeat
// stops, logs an error and reports superseded(); the store refuses such a
// holder every new lease. A failed heartbeat (database busy) is logged and
// retried at the next beat.
//
// Start/Stop/superseded are thread-safe; Stop joins the thread and is
// called once before destruction (the destructor calls it too).
#ifndef MIMI_PROTOCOL_HOLDER_HEARTBEAT_H_
#define MIMI_PROTOCOL_HOLDER_HEARTBEAT_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include "codec/mutex.h"
#include "store/store.h"

namespace mimi::protocol {

class HolderHeartbeat {
 public:
  HolderHeartbeat(store::Store& store, std::string holder_id,
                  int64_t interval_ms, int64_t timeout_ms)
      : store_(store),
        holder_id_(std::move(holder_id)),
        interval_ms_(interval_ms),
        timeout_ms_(timeout_ms) {}
  ~HolderHeartbeat() { Stop(); }
  HolderHeartbeat(const HolderHeartbeat&) = delete;
  HolderHeartbeat& operator=(const HolderHeartbeat&) = delete;

  void Start() EXCLUDES(mu_);
  // Stops beating; the holder stays registered (the caller ends it).
  void Stop() EXCLUDES(mu_);
  // One heartbeat now (the thread's step; tests call it directly).
  Status Beat();
  bool superseded() const { return superseded_.load(); }
  int64_t beats() const { return beats_.load(); }

 private:
  void Run() EXCLUDES(mu_);

  store::Store& store_;
  const std::string holder_id_;
  const int64_t interval_ms_;
  const int64_t timeout_ms_;
  std::atomic<bool> superseded_{false};
  std::atomic<int64_t> beats_{0};
  bool failing_ = false;  // only the heartbeat thread (or a test) beats

  Mutex mu_;
  CondVar cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  // Started and joined by Start/Stop, which are not called concurrently.
  std::thread thread_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_HOLDER_HEARTBEAT_H_
