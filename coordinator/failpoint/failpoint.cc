#include "failpoint/failpoint.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

#include "codec/mutex.h"

namespace mimi::failpoint {
namespace {

enum class Action { kCrash, kError, kDelay };

struct Armed {
  Action action = Action::kError;
  int delay_ms = 0;
  int skip = 0;        // hits to let pass first (@N)
  int remaining = -1;  // actions left (*N); -1 = unlimited
  int hits = 0;
};

std::atomic<bool> g_any_armed{false};
Mutex g_mu;
std::map<std::string, Armed, std::less<>>& Table() REQUIRES(g_mu) {
  static auto* table = new std::map<std::string, Armed, std::less<>>();
  return *table;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

Status ParseOne(std::string_view item, std::string* name, Armed* armed) {
  const size_t eq = item.find('=');
  if (eq == std::string_view::npos) {
    return InvalidArgumentError("failpoint spec '" + std::string(item) +
                                "': expected name=action");
  }
  *name = std::string(item.substr(0, eq));
  std::string_view action = item.substr(eq + 1);
  if (const size_t star = action.find('*'); star != std::string_view::npos) {
    if (!ParseInt(action.substr(star + 1), &armed->remaining)) {
      return InvalidArgumentError("failpoint " + *name + ": bad *count");
    }
    action = action.substr(0, star);
  }
  if (const size_t at = action.find('@'); at != std::string_view::npos) {
    if (!ParseInt(action.substr(at + 1), &armed->skip)) {
      return InvalidArgumentError("failpoint " + *name + ": bad @skip");
    }
    action = action.substr(0, at);
  }
  if (action == "crash") {
    armed->action = Action::kCrash;
  } else if (action == "error") {
    armed->action = Action::kError;
  } else if (action.substr(0, 6) == "delay:" &&
             ParseInt(action.substr(6), &armed->delay_ms)) {
    armed->action = Action::kDelay;
  } else {
    return InvalidArgumentError("failpoint " + *name + ": unknown action '" +
                                std::string(action) +
                                "' (crash, error, delay:MS)");
  }
  const auto& names = Names();
  if (std::find(names.begin(), names.end(), *name) == names.end()) {
    return InvalidArgumentError("unknown failpoint '" + *name + "'");
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& Names() {
  // Before and after every durable commit and every outbound request and
  // response, on both roles. Keep docs/operations.md in step.
  static const auto* kNames = new std::vector<std::string>{
      // source
      "source.before_persist_initiated",
      "source.after_persist_initiated",
      "source.after_freeze",
      "source.before_send_content",
      "source.after_send_content",
      "source.after_persist_content_sent",
      "source.after_receive_complete",
      "source.after_persist_target_complete",
      "source.after_fan_out",
      "source.after_persist_confirmed",
      "source.before_purge",
      "source.after_purge",
      "source.before_send_abort",
      "source.after_persist_aborted",
      // target
      "target.before_persist_requested",
      "target.after_persist_requested",
      "target.before_import",
      "target.after_import",
      "target.after_persist_imported",
      "target.before_reply_complete",
      "target.after_persist_abort",
  };
  return *kNames;
}

Status Arm(std::string_view spec) {
  std::map<std::string, Armed, std::less<>> parsed;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(';', start);
    if (end == std::string_view::npos) end = spec.size();
    std::string_view item = spec.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\n')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\n')) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      std::string name;
      Armed armed;
      MIMI_RETURN_IF_ERROR(ParseOne(item, &name, &armed));
      parsed[name] = armed;
    }
    start = end + 1;
  }
  MutexLock lock(g_mu);
  Table() = std::move(parsed);
  g_any_armed.store(!Table().empty(), std::memory_order_release);
  return Status::Ok();
}

Status ArmFromEnvironment() {
  const char* spec = std::getenv("MIMI_FAILPOINTS");
  return spec == nullptr ? Status::Ok() : Arm(spec);
}

void DisarmAll() { (void)Arm(""); }

Status Hit(std::string_view name) {
  if (!g_any_armed.load(std::memory_order_relaxed)) return Status::Ok();
  Armed copy;
  {
    MutexLock lock(g_mu);
    auto it = Table().find(name);
    if (it == Table().end()) return Status::Ok();
    Armed& armed = it->second;
    armed.hits++;
    if (armed.skip > 0) {
      armed.skip--;
      return Status::Ok();
    }
    if (armed.remaining == 0) return Status::Ok();
    if (armed.remaining > 0) armed.remaining--;
    copy = armed;
  }
  switch (copy.action) {
    case Action::kCrash:
      _exit(kCrashExitCode);
    case Action::kError:
      return UnavailableError("failpoint " + std::string(name));
    case Action::kDelay:
      std::this_thread::sleep_for(std::chrono::milliseconds(copy.delay_ms));
      return Status::Ok();
  }
  return Status::Ok();
}

int HitCount(std::string_view name) {
  MutexLock lock(g_mu);
  auto it = Table().find(name);
  return it == Table().end() ? 0 : it->second.hits;
}

}  // namespace mimi::failpoint
