#include "protocol/recovery_loop.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "log/log.h"
#include "protocol/drive_failure.h"
#include "protocol/held_leases.h"

namespace mimi::protocol {

using store::MigrationState;
using store::Role;

void RecoveryLoop::Start() {
  MutexLock lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  stats_.started_at = ctx_.clock->NowMillis();
  stats_.first_pass_done_at = 0;
  stats_.first_pass_rows = 0;
  thread_ = std::thread([this] { Run(); });
}

void RecoveryLoop::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    for (const Job& job : waiting_) in_flight_.erase(job.key);
    waiting_.clear();
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

RecoveryStats RecoveryLoop::stats() const {
  MutexLock lock(mu_);
  RecoveryStats s = stats_;
  s.waiting = waiting_.size();
  s.outstanding = outstanding_;
  return s;
}

void RecoveryLoop::Run() {
  for (;;) {
    auto scheduled = ScanOnce();
    if (!scheduled.ok()) {
      log::Warn("recovery scan failed: {}", scheduled.status().ToString());
    } else if (*scheduled > 0) {
      log::Debug("recovery scheduled {} migrations", *scheduled);
    }
    MutexLock lock(mu_);
    const auto next_scan =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(ctx_.options->recovery.scan_interval_ms);
    while (!stopping_ && cv_.WaitUntil(mu_, next_scan)) {
    }
    if (stopping_) return;
  }
}

bool RecoveryLoop::Schedule(const store::DueKey& due, bool claimed) {
  std::string key = std::string(store::RoleName(due.role)) + "/" + due.id;
  MutexLock lock(mu_);
  if (stopping_) return false;
  if (!in_flight_.insert(key).second) return false;
  waiting_.push_back(Job{std::move(key), due, claimed});
  ++stats_.scheduled_total;
  PumpLocked();
  return true;
}

void RecoveryLoop::PumpLocked() {
  while (outstanding_ < max_outstanding_ && !waiting_.empty()) {
    Job job = std::move(waiting_.front());
    waiting_.pop_front();
    ++outstanding_;
    // Posting under mu_ is safe: the queue never calls back while holding
    // its own lock.
    const bool posted = workers_.Post([this, job] {
      RunJob(job);
      MutexLock lock(mu_);
      in_flight_.erase(job.key);
      --outstanding_;
      if (!stopping_) PumpLocked();
    });
    if (!posted) {
      // Shutting down: the row stays due in the store.
      --outstanding_;
      in_flight_.erase(job.key);
    }
  }
}

void RecoveryLoop::RunJob(const Job& job) {
  const store::DueKey& due = job.due;
  if (due.role == Role::kSource) {
    (void)source_.Drive(due.id);
  } else if (auto row = ctx_.store->Get(due.id, Role::kTarget); row.ok()) {
    // Read when it runs, not when it was scanned: the row may have moved on.
    Status s = target_.ExpireIfDue(*row);
    if (!s.ok()) RecordDriveFailure(ctx_, *row, s);
  }
  // The driver took the claim over if it ran; otherwise (busy, nothing to
  // do, an error) the row must not wait out the claim's lease.
  if (job.claimed) ReleaseClaim(due);
}

void RecoveryLoop::ReleaseClaim(const store::DueKey& due) {
  Status s = ctx_.store->ReleaseLease(due.id, due.role,
                                      store::ClaimOwnerOf(ctx_.lease_holder));
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    log::Warn(log::Migration{due.id},
              "{}: releasing the recovery claim failed ({}); it lapses with "
              "the lease",
              store::RoleName(due.role), s.ToString());
  }
}

Status RecoveryLoop::ReclaimDeadLeases() {
  if (!ctx_.options->recovery.reclaim_dead_leases) return Status::Ok();
  // Never our own: this process is alive, even when a stalled disk made
  // its heartbeat late, and its workers may be driving those rows.
  MIMI_ASSIGN_OR_RETURN(auto reclaimed,
                        ctx_.store->ReclaimDeadLeases(ctx_.lease_holder));
  if (reclaimed.empty()) return Status::Ok();
  // A line per scan with the count per holder.
  std::map<std::string, int> per_holder;
  for (const auto& r : reclaimed) ++per_holder[r.holder_id];
  std::string holders;
  for (const auto& [holder, n] : per_holder) {
    holders += (holders.empty() ? "" : ", ") + holder + ": " + std::to_string(n);
  }
  log::Info("recovery: took over {} leases of dead holders ({})",
            reclaimed.size(), holders);
  // And a line per migration, which names it (a crash leaves a few).
  for (const auto& r : reclaimed) {
    log::Info(log::Migration{r.id}, "{}: lease of dead holder {} taken over",
              store::RoleName(r.role), r.holder_id);
  }
  MutexLock lock(mu_);
  stats_.reclaimed_total += static_cast<int64_t>(reclaimed.size());
  return Status::Ok();
}

int64_t RecoveryLoop::LongHeldAfterMillis() const {
  constexpr int64_t kAtMostMs = 60'000;
  return std::min(ctx_.options->recovery.lease_ms / 2, kAtMostMs);
}

void RecoveryLoop::TendHeldLeases() {
  if (ctx_.held_leases == nullptr) return;
  HeldLeases& held = *ctx_.held_leases;
  const int released = held.RetryOrphans([this](const HeldLeases::Lease& l) {
    Status s = ctx_.store->ReleaseLease(l.id, l.role, l.owner);
    if (s.ok()) {
      log::Info(log::Migration{l.id},
                "{}: lease {} released by recovery (its release had failed)",
                store::RoleName(l.role), l.owner);
    }
    return s.ok();
  });
  const UnixMillis now = ctx_.clock->NowMillis();
  const auto long_held = held.HeldFor(LongHeldAfterMillis());
  std::vector<HeldLeases::Lease> to_name;
  {
    MutexLock lock(mu_);
    stats_.releases_retried_total += released;
    stats_.held_long = static_cast<int64_t>(long_held.size());
    std::unordered_set<std::string> still;
    for (const auto& l : long_held) {
      still.insert(l.owner);
      if (!named_long_held_.count(l.owner)) to_name.push_back(l);
    }
    named_long_held_ = std::move(still);
  }
  for (const auto& l : to_name) {
    log::Warn(log::Migration{l.id},
              "{}: lease {} has been held by one driver for {} s; a step "
              "that takes this long is stuck or moving a very large state",
              store::RoleName(l.role), l.owner, (now - l.since) / 1000);
  }
}

Result<int> RecoveryLoop::ScanOnce() {
  constexpr int kBatch = 1000;
  const RecoveryOptions& rc = ctx_.options->recovery;
  // Before the due walk, so that the rows it frees are due in this scan.
  if (Status s = ReclaimDeadLeases(); !s.ok()) {
    log::Warn("recovery: taking over dead holders' leases failed: {}",
                 s.ToString());
  }
  TendHeldLeases();
  if (rc.auto_abort_after_seconds > 0) {
    const UnixMillis cutoff =
        ctx_.clock->NowMillis() - rc.auto_abort_after_seconds * 1000;
    for (MigrationState state :
         {MigrationState::kInitiated, MigrationState::kContentSent}) {
      MIMI_ASSIGN_OR_RETURN(auto rows,
                            ctx_.store->ListByState(Role::kSource, state, kBatch));
      for (const auto& row : rows) {
        if (row.created_at > cutoff) break;  // oldest first
        Status s = source_.RequestAbort(
            row.id, "no answer from the target for " +
                        std::to_string(rc.auto_abort_after_seconds) + "s");
        if (!s.ok()) {
          log::Warn(log::Migration{row.id}, "auto-abort failed: {}",
                    s.ToString());
        }
      }
    }
  }
  // Page through every due row; the store lock is released between pages,
  // so the workers' transitions interleave with a long scan.
  const auto start = std::chrono::steady_clock::now();
  int scheduled = 0;
  int pages = 0;
  std::optional<store::DueKey> after;
  const std::string claim_owner = store::ClaimOwnerOf(ctx_.lease_holder);
  for (;;) {
    MIMI_ASSIGN_OR_RETURN(
        store::Store::DueClaim claim,
        ctx_.store->ClaimDueKeys(after ? &*after : nullptr, kPage, claim_owner,
                                 rc.lease_ms));
    ++pages;
    const auto& page = claim.keys;
    for (const auto& due : page) {
      if (Schedule(due, claim.leased)) {
        ++scheduled;
      } else if (claim.leased) {
        // Already running here (or stopping): the claim is not needed.
        ReleaseClaim(due);
      }
    }
    if (page.size() < static_cast<size_t>(kPage)) break;
    after = page.back();
    MutexLock lock(mu_);
    if (waiting_.size() >= kMaxWaiting || stopping_) break;
  }
  MutexLock lock(mu_);
  ++stats_.scans;
  if (stats_.first_pass_done_at == 0) {
    stats_.first_pass_done_at = ctx_.clock->NowMillis();
    stats_.first_pass_rows = scheduled;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    // Benchmarks and operators read this line: the backlog is taken up.
    log::Info(
        "recovery: first scan took up {} due migrations in {} ms ({} pages)",
        scheduled, ms, pages);
  }
  return scheduled;
}

}  // namespace mimi::protocol
