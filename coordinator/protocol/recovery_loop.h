// RecoveryLoop: on start and then every scan interval, finds the migrations
// whose next attempt is due (store.ClaimDueKeys: time reached, lease free) and
// drives each forward from its persisted state on the worker queue: source
// rows through SourceService::Drive, target rows through
// TargetService::ExpireIfDue. It also turns source migrations older than
// recovery.auto_abort_after_seconds into aborts, when that is configured.
//
// On a store that several instances share (PostgreSQL), the scan claims the
// due rows it takes up: each is leased to this holder's claim owner
// (store::ClaimOwnerOf) in the scan's own transaction, rows another
// instance is claiming at that moment are skipped, so two instances never
// take up one row; the driver that runs the row takes the claim over, and
// a claim the job did not use is released when the job ends (or lapses
// with the lease, or is reclaimed when this process dies).
//
// One scan pages through every due row (keys only), so a backlog of
// thousands after a crash is taken up in the first scan, not a page per
// scan interval. Taken-up rows wait in the loop's own FIFO and are fed to
// the shared worker queue a few at a time, so that work posted by request
// handlers (a client's init) never queues behind the whole backlog.
//
// Each scan first takes over the unexpired leases of dead lease holders
// (store.ReclaimDeadLeases: an earlier incarnation of this instance, or a
// holder whose heartbeat lapsed; docs/protocol.md §4 "Lease ownership"), so
// that the rows a crashed process was driving are due again in this very
// scan instead of when their leases run out; it logs them once per scan
// and counts them (stats().reclaimed_total), unless
// recovery.reclaim_dead_leases is off.
//
// Every scan also tends this process's own leases (ctx.held_leases,
// protocol/held_leases.h): it releases those whose release had failed, and
// logs once each lease a thread has held for longer than LongHeldAfterMillis(),
// which is how a stuck driver shows itself before its lease lapses.
//
// Leases live in the services; a failed attempt is recorded with the one
// back-off of both roles (protocol/drive_failure.h: exponential with full
// jitter, stall marking). The loop only schedules, and never schedules a
// row that is already waiting or running in this process.
// Start/Stop/ScanOnce/stats are thread-safe.
#ifndef MIMI_PROTOCOL_RECOVERY_LOOP_H_
#define MIMI_PROTOCOL_RECOVERY_LOOP_H_

#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <unordered_set>

#include "codec/mutex.h"
#include "protocol/source_service.h"
#include "protocol/target_service.h"

namespace mimi::protocol {

// What the loop has done since it was constructed (wall-clock Unix ms).
struct RecoveryStats {
  int64_t scans = 0;            // completed scans
  int64_t scheduled_total = 0;  // rows taken up (a row once per take-up)
  // Unexpired leases of dead holders taken over (mimi_leases_reclaimed_total).
  int64_t reclaimed_total = 0;
  // This process's own leases whose release had failed, released by a scan
  // (mimi_lease_releases_retried_total).
  int64_t releases_retried_total = 0;
  // Leases a thread of this process has held for longer than
  // RecoveryLoop::LongHeldAfterMillis() at the last scan
  // (mimi_leases_held_long).
  int64_t held_long = 0;
  // The first completed scan after Start(): every row due then was taken
  // up by its end. 0 until it has happened.
  UnixMillis started_at = 0;
  UnixMillis first_pass_done_at = 0;
  int64_t first_pass_rows = 0;
  size_t waiting = 0;      // taken up, not yet on the worker queue
  size_t outstanding = 0;  // on the worker queue or running
};

class RecoveryLoop {
 public:
  // At most this many of the loop's rows sit on the shared worker queue at
  // once (enough to keep every worker busy).
  static constexpr size_t kDefaultMaxOutstanding = 16;
  // Rows per ClaimDueKeys page.
  static constexpr int kPage = 1000;
  // A scan stops taking rows up beyond this many waiting in memory; the
  // rest are taken by later scans.
  static constexpr size_t kMaxWaiting = 200'000;

  RecoveryLoop(const ProtocolContext& ctx, SourceService& source,
               TargetService& target, WorkQueue& workers,
               size_t max_outstanding = kDefaultMaxOutstanding)
      : ctx_(ctx),
        source_(source),
        target_(target),
        workers_(workers),
        max_outstanding_(max_outstanding == 0 ? 1 : max_outstanding) {}
  ~RecoveryLoop() { Stop(); }

  void Start() EXCLUDES(mu_);
  // Stops scanning and drops the rows still waiting (they stay due in the
  // store); jobs already on the worker queue run to their end.
  void Stop() EXCLUDES(mu_);
  // One scan; returns how many rows it took up.
  Result<int> ScanOnce() EXCLUDES(mu_);
  // How long one driver may hold a lease before the scan names it: half
  // the lease, and at most a minute (a step is one peer round trip and a
  // few commits; only a very large content upload takes longer).
  int64_t LongHeldAfterMillis() const;
  RecoveryStats stats() const EXCLUDES(mu_);

 private:
  struct Job {
    std::string key;  // "role/id"
    store::DueKey due;
    bool claimed = false;  // the row carries this holder's claim
  };

  void Run() EXCLUDES(mu_);
  // False when the row is already waiting or running.
  bool Schedule(const store::DueKey& due, bool claimed) EXCLUDES(mu_);
  // Gives back a claim no driver took over (a no-op when one did).
  void ReleaseClaim(const store::DueKey& due) EXCLUDES(mu_);
  // Moves waiting jobs onto the worker queue up to max_outstanding_.
  void PumpLocked() REQUIRES(mu_);
  void RunJob(const Job& job) EXCLUDES(mu_);
  // Frees the leases of dead holders (when configured), logs and counts
  // them.
  Status ReclaimDeadLeases() EXCLUDES(mu_);
  // Retries failed releases and names long-held leases (see above).
  void TendHeldLeases() EXCLUDES(mu_);

  const ProtocolContext& ctx_;
  SourceService& source_;
  TargetService& target_;
  WorkQueue& workers_;
  const size_t max_outstanding_;

  mutable Mutex mu_;
  CondVar cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  // Started under mu_ by Start(); joined by Stop() without it (the thread
  // takes mu_ itself). Start and Stop are not called concurrently.
  std::thread thread_;
  // waiting or outstanding
  std::unordered_set<std::string> in_flight_ GUARDED_BY(mu_);
  std::deque<Job> waiting_ GUARDED_BY(mu_);
  size_t outstanding_ GUARDED_BY(mu_) = 0;
  RecoveryStats stats_ GUARDED_BY(mu_);
  // Owners of the long-held leases already logged, so each is logged once.
  std::unordered_set<std::string> named_long_held_ GUARDED_BY(mu_);
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_RECOVERY_LOOP_H_
