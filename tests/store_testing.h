// Helpers shared by the store tests and store_crash_helper: deterministic
// records, the data each transition stores and the helper child process.
//
// Header-only; not thread-safe beyond what each function says (they are pure
// except Child, which owns a process).
#ifndef MIMI_TESTS_STORE_TESTING_H_
#define MIMI_TESTS_STORE_TESTING_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include "testing/temp_dir.h"

namespace mimi::store::testing {

// The tests' one TempDir (testing/temp_dir.h), under the name the store
// tests have always used.
using ::mimi::testing::TempDir;

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

// A store_crash_helper child started with posix_spawn (safe in a threaded
// gtest process, unlike a bare fork), with pipes on its stdin and stdout.
// The destructor kills and reaps it if the test has not.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (stdin_ >= 0) close(stdin_);
    if (stdout_ >= 0) close(stdout_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  void Send(char c) {
    ssize_t n = write(stdin_, &c, 1);
    (void)n;
  }
  // Reads whatever arrives within timeout_ms (or until EOF) into buffer().
  bool ReadFor(int timeout_ms) {
    pollfd p{stdout_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    ssize_t n = read(stdout_, buf, sizeof buf);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
  void ReadToEnd() {
    while (ReadFor(10000)) {
    }
  }
  // Sends SIGKILL and reaps; returns the wait status.
  int Kill() {
    kill(pid_, SIGKILL);
    return Wait();
  }
  int Wait() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  const std::string& buffer() const { return buffer_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buffer_;
};

}  // namespace mimi::store::testing

#endif  // MIMI_TESTS_STORE_TESTING_H_
