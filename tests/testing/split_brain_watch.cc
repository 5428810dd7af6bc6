#include "testing/split_brain_watch.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "codec/json_text.h"
#include "mimi_portability/bytes.h"

namespace mimi::testing {
namespace {

enum class Accepts { kYes, kNo, kUnknown };

// kUnknown when the daemon did not answer (killed, restarting).
Accepts AcceptsCommits(httplib::Client& client, const Bytes& group_id,
                       std::string* said) {
  auto r = client.Get(("/ds/v1/groups/" + ToHex(group_id)).c_str());
  if (!r) return Accepts::kUnknown;
  *said = std::to_string(r->status) + " " + r->body;
  if (r->status != 200) return Accepts::kNo;
  auto j = mimi::codec::ParseJson(r->body);
  if (!j.is_object() || !j.contains("frozen")) return Accepts::kUnknown;
  return j.value("frozen", true) ? Accepts::kNo : Accepts::kYes;
}

}  // namespace

SplitBrainWatch::SplitBrainWatch(const PortdPair& pair,
                                 std::vector<Bytes> group_ids)
    : pair_(pair),
      group_ids_(std::move(group_ids)),
      thread_([this] { Run(); }) {}

SplitBrainWatch::~SplitBrainWatch() { Stop(); }

void SplitBrainWatch::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> SplitBrainWatch::Violations() const {
  MutexLock lock(mu_);
  return violations_;
}

void SplitBrainWatch::Run() {
  auto target = pair_.Client(Side::kTarget);
  auto source = pair_.Client(Side::kSource);
  // Short: a killed daemon must not hold the probe up for long.
  for (auto* c : {target.get(), source.get()}) {
    c->set_connection_timeout(std::chrono::milliseconds(300));
    c->set_read_timeout(std::chrono::seconds(2));
  }
  while (!stop_) {
    for (const Bytes& gid : group_ids_) {
      if (stop_) break;
      std::string target_said, source_said;
      const Accepts at_target = AcceptsCommits(*target, gid, &target_said);
      if (at_target == Accepts::kUnknown) continue;
      const Accepts at_source = AcceptsCommits(*source, gid, &source_said);
      if (at_source == Accepts::kUnknown) continue;
      ++checked_;
      if (at_target == Accepts::kYes && at_source == Accepts::kYes) {
        MutexLock lock(mu_);
        violations_.push_back("group " + ToHex(gid) +
                              " accepts commits on both DSs: target said " +
                              target_said + "; then source said " +
                              source_said);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace mimi::testing
