// Disks that fill and fail, at the daemon (issue 19 item 4;
// docs/reliability.md "Disks that fill and fail"): two in-process daemons,
// the target's database on testing::FaultyVfs. The target's disk fills in
// the middle of a migration (its row is durably `requested`, the source's
// `initiated`): new MigrationRequests get 503 storage-unavailable and store
// nothing, the daemon keeps serving (/healthz degraded, the storage metrics
// count), and once the disk takes writes again the migration finishes by
// itself, exactly once.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "crypto/signing_key.h"
#include "mimi_portability/messages.h"
#include "testing/ds_member.h"
#include "testing/faulty_vfs.h"
#include "testing/synthetic_mls.h"
#include "testing/two_daemons.h"

namespace mimi {
namespace {

using nlohmann::json;
using testing::FaultyVfs;
using testing::VfsFaultPlan;
using Steady = std::chrono::steady_clock;

constexpr char kDiskFaultType[] = "application/mimi-portability";
constexpr uint64_t kDiskFaultEpoch = 5;
constexpr uint16_t kDiskFaultSuite = 1;

struct DiskFaultAnswer {
  int status = 0;
  std::string body;
  std::string error;
  std::string detail;
};

DiskFaultAnswer DiskFaultAnswerOf(const httplib::Result& r) {
  DiskFaultAnswer a;
  if (!r) {
    a.error = "no answer: " + httplib::to_string(r.error());
    return a;
  }
  a.status = r->status;
  a.body = r->body;
  auto j = codec::ParseJson(r->body);
  if (j.is_object()) {
    a.error = j.value("error", "");
    a.detail = j.value("detail", "");
  }
  return a;
}

// The value of an unlabelled sample in a /metrics text; -1 if absent.
double DiskFaultMetric(const std::string& text, const std::string& name) {
  const std::string key = "\n" + name + " ";
  size_t at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

class DaemonDiskFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(FaultyVfs::Register().ok());
    FaultyVfs::Disarm();
    daemons_ = std::make_unique<testing::TwoDaemons>(
        SystemClock::Get(), [](daemon::Config& c) {
          c.recovery.scan_interval_ms = 50;
          c.recovery.backoff_initial_ms = 20;
          c.recovery.backoff_max_ms = 200;
          if (c.domain == "target.test") c.store.sqlite_vfs = testing::kFaultyVfs;
        });
    ASSERT_TRUE(daemons_->ok()) << daemons_->error();
    source_ = daemons_->SourceClient();
    target_ = daemons_->TargetClient();
    auto cs = crypto::LookupCipherSuite(kDiskFaultSuite);
    ASSERT_TRUE(cs.ok());
    std::vector<testing::SyntheticMember> members;
    for (const char* name : {"alice", "bob", "carol"}) {
      keys_.push_back(crypto::SigningKey::Generate(cs->signature_scheme).value());
      members.push_back({name, keys_.back().public_key().encoded()});
    }
    group_id_ = ToBytes("group-disk-fault-abcdefgh");
    const Bytes tree = testing::SyntheticRatchetTree(kDiskFaultSuite, members);
    const Bytes group_info = testing::SyntheticGroupInfo(
        kDiskFaultSuite, group_id_, kDiskFaultEpoch, tree, 0, keys_[0]);
    json create = {{"group_info", ToHex(group_info)},
                   {"ratchet_tree", ToHex(tree)}};
    auto r = source_->Post(
        "/ds/v1/groups",
        testing::ClientTokenHeaders(daemons_->source_client_token()),
        codec::DumpJson(create), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }

  void TearDown() override {
    FaultyVfs::Disarm();
    daemons_.reset();
  }

  DiskFaultAnswer PostRequest() {
    MigrationRequest request{ToBytes("source.test"), ToBytes("target.test"),
                             group_id_, kDiskFaultEpoch};
    const Bytes body = *Encode(request);
    return DiskFaultAnswerOf(target_->Post(
        "/mimi-portability/v1/request",
        {{"MIMI-Cipher-Suite", std::to_string(kDiskFaultSuite)},
         {"Authorization", "Bearer " + daemons_->client_token()}},
        reinterpret_cast<const char*>(body.data()), body.size(),
        kDiskFaultType));
  }

  DiskFaultAnswer PostInit(const Bytes& body) {
    return DiskFaultAnswerOf(source_->Post(
        "/mimi-portability/v1/init",
        reinterpret_cast<const char*>(body.data()), body.size(),
        kDiskFaultType));
  }

  std::string Get(httplib::Client& c, const char* path) {
    auto r = c.Get(path);
    return r ? r->body : "no answer";
  }

  // Polls `done` every 20 ms until it holds or `patience` passes.
  template <typename F>
  bool AwaitTrue(F done, std::chrono::seconds patience) {
    const auto deadline = Steady::now() + patience;
    while (!done()) {
      if (Steady::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  std::unique_ptr<testing::TwoDaemons> daemons_;
  std::unique_ptr<httplib::Client> source_, target_;
  std::vector<crypto::SigningKey> keys_;
  Bytes group_id_;
};

TEST_F(DaemonDiskFaultTest, FullDiskMidMigrationRefusesNewWorkAndTheMigrationFinishesAfter) {
  // The migration is under way: the target has issued (stored) its nonce.
  DiskFaultAnswer first = PostRequest();
  ASSERT_EQ(first.status, 200) << first.error << ": " << first.detail;
  auto response = Decode<MigrationResponse>(ToBytes(first.body));
  ASSERT_TRUE(response.ok());
  const std::string id = ToHex(response->nonce);
  Bytes commit = testing::SyntheticPublicCommit(
      group_id_, kDiskFaultEpoch, 1,
      *Encode(MigrationCommitAAD{ToBytes("target.test")}));
  MigrationInit init{*response, {}};
  ASSERT_TRUE(crypto::SignMessage(keys_[1], &init).ok());
  const Bytes init_body = *Encode(MigrationInitRequest{init, 1, commit});

  // The target's disk fills.
  VfsFaultPlan full;
  full.error = VfsFaultPlan::Error::kFull;
  FaultyVfs::Arm(full);
  const auto fault_start = Steady::now();

  // The client's init: the source stores it and drives it, the target
  // cannot import. Not confirmed.
  DiskFaultAnswer pending = PostInit(init_body);
  EXPECT_NE(pending.status, 200) << pending.body;
  EXPECT_TRUE(AwaitTrue(
      [&] {
        auto row = daemons_->SourceStore()->Get(id, store::Role::kSource);
        return row.ok() && row->attempt_count >= 1;
      },
      std::chrono::seconds(15)))
      << "the source never tried the target";

  // New work is refused with the storage code and stores nothing.
  auto target_rows_before = daemons_->TargetStore()->ListByGroup(group_id_);
  ASSERT_TRUE(target_rows_before.ok());
  DiskFaultAnswer refused = PostRequest();
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.error, "storage-unavailable") << refused.body;
  EXPECT_NE(refused.detail.find("disk full"), std::string::npos) << refused.body;
  auto target_rows_after = daemons_->TargetStore()->ListByGroup(group_id_);
  ASSERT_TRUE(target_rows_after.ok());
  EXPECT_EQ(target_rows_after->size(), target_rows_before->size());
  EXPECT_EQ(target_rows_after->size(), 1u);

  // Still serving: degraded health, the storage metrics.
  auto health = codec::ParseJson(Get(*target_, "/healthz"));
  EXPECT_EQ(health.value("status", ""), "degraded") << health.dump();
  EXPECT_EQ(health.value("storage", ""), "disk full") << health.dump();
  const std::string metrics = Get(*target_, "/metrics");
  EXPECT_GT(DiskFaultMetric(metrics, "mimi_store_storage_errors_total"), 0) << metrics;
  EXPECT_EQ(DiskFaultMetric(metrics, "mimi_store_storage_failing"), 1) << metrics;
  EXPECT_EQ(codec::ParseJson(Get(*source_, "/healthz")).value("status", ""), "ok");
  EXPECT_GT(FaultyVfs::Stats().faults, 0);

  // Space returns: the migration finishes by itself.
  FaultyVfs::Disarm();
  const auto space_back = Steady::now();
  EXPECT_TRUE(AwaitTrue(
      [&] {
        auto row = daemons_->SourceStore()->Get(id, store::Role::kSource);
        return row.ok() && row->state == store::MigrationState::kPurged;
      },
      std::chrono::seconds(20)))
      << "the source row never reached purged";
  const auto finished = Steady::now();
  auto target_row = daemons_->TargetStore()->Get(id, store::Role::kTarget);
  ASSERT_TRUE(target_row.ok());
  EXPECT_EQ(target_row->state, store::MigrationState::kImported);
  // Exactly once: one target row, the group one epoch on, the commit once.
  auto rows = daemons_->TargetStore()->ListByGroup(group_id_);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
  auto details = daemons_->TargetDs()->Details(group_id_);
  ASSERT_TRUE(details.ok());
  EXPECT_EQ(details->summary.epoch, kDiskFaultEpoch + 1);
  auto messages = daemons_->TargetDs()->FetchMessages(group_id_, 0, 10);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ(messages->back().message, commit);
  // The client's retry gets its confirmation; health is back.
  DiskFaultAnswer confirmed = PostInit(init_body);
  EXPECT_EQ(confirmed.status, 200) << confirmed.error << ": " << confirmed.detail;
  EXPECT_EQ(codec::ParseJson(Get(*target_, "/healthz")).value("status", ""), "ok");
  EXPECT_EQ(DiskFaultMetric(Get(*target_, "/metrics"), "mimi_store_storage_failing"), 0);
  std::printf(
      "[disk-fault] daemon: disk full for %lld ms, migration finished %lld ms "
      "after space returned\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 space_back - fault_start)
                                 .count()),
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 finished - space_back)
                                 .count()));
}

}  // namespace
}  // namespace mimi
