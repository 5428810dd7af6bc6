// TransferProgress: how far each MigrationContent upload to a target has
// got, for operators watching a large group move (admin API, `mimi-portctl
// watch`).
//
// Deliberately in memory only: progress is not a state transition, so it
// must not cost a durable write per chunk, and after a crash the content is
// resent from its first byte anyway. An entry exists from the first byte to
// the end of the attempt (answered or failed); a resend starts a new one.
// Thread-safe: the source's workers write, admin handlers read.
#ifndef MIMI_PROTOCOL_TRANSFER_PROGRESS_H_
#define MIMI_PROTOCOL_TRANSFER_PROGRESS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "codec/mutex.h"
#include "mimi_portability/clock.h"

namespace mimi::protocol {

struct TransferSnapshot {
  uint64_t sent_bytes = 0;
  uint64_t total_bytes = 0;
  UnixMillis started_at = 0;
  UnixMillis updated_at = 0;
};

class TransferProgress {
 public:
  explicit TransferProgress(const Clock& clock) : clock_(clock) {}

  // Starts (or restarts, for a resend) the entry of migration `id`.
  void Begin(std::string_view id, uint64_t total_bytes) EXCLUDES(mu_);
  // Records that the first `sent_bytes` bytes are on the wire. Ignored for
  // an id that has no entry (the attempt already ended).
  void Update(std::string_view id, uint64_t sent_bytes) EXCLUDES(mu_);
  // Removes the entry: the attempt was answered or failed.
  void End(std::string_view id) EXCLUDES(mu_);

  std::optional<TransferSnapshot> Get(std::string_view id) const EXCLUDES(mu_);

 private:
  const Clock& clock_;
  mutable Mutex mu_;
  // by id
  std::map<std::string, TransferSnapshot, std::less<>> entries_ GUARDED_BY(mu_);
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_TRANSFER_PROGRESS_H_
