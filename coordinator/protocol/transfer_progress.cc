#include "protocol/transfer_progress.h"

namespace mimi::protocol {

void TransferProgress::Begin(std::string_view id, uint64_t total_bytes) {
  const UnixMillis now = clock_.NowMillis();
  MutexLock lock(mu_);
  entries_.insert_or_assign(std::string(id),
                            TransferSnapshot{0, total_bytes, now, now});
}

void TransferProgress::Update(std::string_view id, uint64_t sent_bytes) {
  const UnixMillis now = clock_.NowMillis();
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.sent_bytes = sent_bytes;
  it->second.updated_at = now;
}

void TransferProgress::End(std::string_view id) {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) entries_.erase(it);
}

std::optional<TransferSnapshot> TransferProgress::Get(std::string_view id) const {
  MutexLock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

}  // namespace mimi::protocol
