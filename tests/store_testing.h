// Helpers shared by the store tests and store_crash_helper: temporary
// directories, deterministic records and the data each transition stores.
//
// Header-only; not thread-safe beyond what each function says (they are pure
// except TempDir, which owns a directory).
#ifndef MIMI_TESTS_STORE_TESTING_H_
#define MIMI_TESTS_STORE_TESTING_H_

#include <stdlib.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mimi_portability/bytes.h"
#include "store/records.h"
#include "store/transitions.h"

namespace mimi::store::testing {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "mimi-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

// The hex id of a 32-byte nonce made from `n` and `salt`.
inline std::string MakeId(uint64_t n, uint64_t salt = 0) {
  Bytes b(32, 0);
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(n >> (8 * i));
    b[8 + i] = static_cast<uint8_t>(salt >> (8 * i));
  }
  b[31] = 0x5a;
  return ToHex(b);
}

inline MigrationRecord MakeRecord(const std::string& id, Role role,
                                  const std::string& group) {
  MigrationRecord r;
  r.id = id;
  r.role = role;
  r.group_id = ToBytes(group);
  r.epoch = 7;
  r.ciphersuite = 1;
  r.source_domain = "source.example";
  r.target_domain = "target.example";
  r.request = ToBytes("request:" + id);
  r.response = ToBytes("response:" + id);
  if (role == Role::kSource) {
    r.init_request = ToBytes("init:" + id);
    r.commit = ToBytes("commit:" + id);
  }
  return r;
}

// Exactly the fields `rule` requires, with contents derived from `tag`.
inline TransitionData DataFor(const TransitionRule& rule,
                              const std::string& tag = "v1") {
  TransitionData d;
  auto val = [&](const char* what) { return ToBytes(std::string(what) + tag); };
  if (rule.fields & kFieldContent) d.content = val("content:");
  if (rule.fields & kFieldContentHash) d.content_hash = val("hash:");
  if (rule.fields & kFieldTargetComplete) d.target_complete = val("tmc:");
  if (rule.fields & kFieldConfirmation) d.confirmation = val("confirm:");
  if (rule.fields & kFieldAbortMessage) d.abort_message = val("abort:");
  if (rule.fields & kFieldAbortAck) d.abort_ack = val("ack:");
  d.detail = "to " + std::string(StateName(rule.to));
  return d;
}

inline const TransitionRule* FindRule(Role role, MigrationState from,
                                      MigrationState to) {
  for (const TransitionRule& r : TransitionRules()) {
    if (r.role == role && r.from == from && r.to == to) return &r;
  }
  return nullptr;
}

// A shortest list of rules from the role's initial state to `state`, or
// nullopt when it cannot be reached.
inline std::optional<std::vector<const TransitionRule*>> PathTo(
    Role role, MigrationState state) {
  std::map<MigrationState, std::vector<const TransitionRule*>> seen;
  std::deque<MigrationState> queue{InitialState(role)};
  seen[InitialState(role)] = {};
  while (!queue.empty()) {
    MigrationState s = queue.front();
    queue.pop_front();
    if (s == state) return seen[s];
    for (const TransitionRule& r : TransitionRules()) {
      if (r.role != role || r.from != s || seen.count(r.to)) continue;
      seen[r.to] = seen[s];
      seen[r.to].push_back(&r);
      queue.push_back(r.to);
    }
  }
  return std::nullopt;
}

inline constexpr MigrationState kAllStates[] = {
    MigrationState::kInitiated,      MigrationState::kContentSent,
    MigrationState::kTargetComplete, MigrationState::kConfirmed,
    MigrationState::kPurged,         MigrationState::kAbortRequested,
    MigrationState::kAborted,        MigrationState::kRequested,
    MigrationState::kImported,       MigrationState::kExpired,
};

}  // namespace mimi::store::testing

#endif  // MIMI_TESTS_STORE_TESTING_H_
