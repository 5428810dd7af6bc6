// Migrations through an operator's own Delivery Service (ds.mode = "http"):
// mimi-portd drives the Python stand-in DS (tests/standin_ds/standin_ds.py)
// through the HTTP hooks (docs/ds-interface.md) while members use the
// stand-in's own member API.
//
//  * Real ts-mls members (tests/mls/migrate_e2e.mjs with --source-ds /
//    --target-ds) migrate a group embedded -> external, external -> embedded
//    and external -> external; then both databases and both DSs are checked:
//    source row purged, target row imported, a tombstone at the source DS,
//    the group at the target DS at epoch 2 with the commit once in its log.
//  * The DS fails during each hook of a migration (freeze, export, import,
//    fan-out, delete; before the work or after it with the answer lost), or
//    is stopped and restarted: the recovery loop retries and the migration
//    completes once the DS is back, with the commit fanned out exactly once.
//    A C++ client with synthetic MLS (testing/synthetic_mls.h) drives these.
//
// One stand-in per external side, started before the daemons. The ts-mls
// cases skip without node or tests/mls/node_modules/ts-mls; everything skips
// without python3.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "crypto/signing_key.h"
#include "daemon/ds_from_config.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/endpoints.h"
#include "mimi_portability/messages.h"
#include "testing/command.h"
#include "testing/mls_fixtures.h"
#include "testing/standin_ds.h"
#include "testing/synthetic_mls.h"
#include "testing/temp_dir.h"
#include "testing/two_daemons.h"

namespace mimi {
namespace {

using nlohmann::json;
using testing::RunCommand;
using testing::ShellQuote;
using testing::StandinDs;
using testing::TsMlsDir;
using testing::TwoDaemons;

const std::filesystem::path kSource(MIMI_SOURCE_DIR);
const std::filesystem::path kScript =
    kSource / "tests/standin_ds/standin_ds.py";

std::string MissingPython() {
  if (RunCommand("command -v python3 >/dev/null").exit_code != 0) {
    return "python3 is not installed (the stand-in DS needs it)";
  }
  return "";
}

std::string MissingNode() {
  if (RunCommand("command -v node >/dev/null").exit_code != 0) {
    return "node is not installed";
  }
  if (!std::filesystem::is_directory(TsMlsDir() / "node_modules/ts-mls")) {
    return "tests/mls/node_modules/ts-mls is missing (run tools/setup)";
  }
  return "";
}

// A plain JSON call to a stand-in (member API or test control).
json StandinCall(const StandinDs& ds, const std::string& method,
                 const std::string& path, const json& body = json::object(),
                 int* status = nullptr) {
  httplib::Client c("127.0.0.1", ds.port());
  c.set_read_timeout(std::chrono::seconds(10));
  auto r = method == "GET" ? c.Get(path.c_str())
                           : c.Post(path.c_str(), mimi::codec::DumpJson(body),
                                    "application/json");
  if (status) *status = r ? r->status : 0;
  if (!r) return json{{"error", "no answer: " + httplib::to_string(r.error())}};
  return mimi::codec::ParseJson(r->body);
}

// Two daemons, either or both of them driving a stand-in DS over the hooks.
class ExternalDsSetup {
 public:
  ExternalDsSetup(bool source_external, bool target_external) {
    auto start = [&](const char* name) -> std::unique_ptr<StandinDs> {
      auto ds = StandinDs::Start({kScript, dir_.path(), name, {}, {}});
      if (!ds.ok()) {
        error_ = ds.status().ToString();
        return nullptr;
      }
      return std::move(ds).value();
    };
    if (source_external && !(source_standin_ = start("source-ds"))) return;
    if (target_external && !(target_standin_ = start("target-ds"))) return;
    daemons_ = std::make_unique<TwoDaemons>(
        SystemClock::Get(), [this](daemon::Config& c) {
          StandinDs* ds = c.domain == "source.test" ? source_standin_.get()
                                                    : target_standin_.get();
          c.recovery.scan_interval_ms = 50;
          c.recovery.backoff_initial_ms = 20;
          c.recovery.backoff_max_ms = 200;
          if (ds == nullptr) return;
          c.ds.mode = "http";
          c.ds.base_url = ds->base_url();
          c.ds.secret_file = ds->secret_file().string();
          c.ds.timeout_ms = 2000;
        });
    if (!daemons_->ok()) error_ = daemons_->error();
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  TwoDaemons& d() { return *daemons_; }
  StandinDs* source_standin() { return source_standin_.get(); }
  StandinDs* target_standin() { return target_standin_.get(); }

  // Where members reach each side's DS (/ds/v1).
  std::string SourceDsUrl() const {
    return source_standin_
               ? source_standin_->base_url()
               : "https://127.0.0.1:" + std::to_string(daemons_->source_port());
  }
  std::string TargetDsUrl() const {
    return target_standin_
               ? target_standin_->base_url()
               : "https://127.0.0.1:" + std::to_string(daemons_->target_port());
  }
  std::unique_ptr<httplib::Client> SourceMemberClient() const {
    return MemberClient(source_standin_.get(), daemons_->SourceClient());
  }
  std::unique_ptr<httplib::Client> TargetMemberClient() const {
    return MemberClient(target_standin_.get(), daemons_->TargetClient());
  }

  // The DeliveryService each daemon drives, for assertions: the embedded DS
  // on its database, or a hook adapter of our own to the stand-in.
  std::unique_ptr<DeliveryService> SourceDs() {
    return Ds(daemons_->source_config(), [&] { return daemons_->SourceDs(); });
  }
  std::unique_ptr<DeliveryService> TargetDs() {
    return Ds(daemons_->target_config(), [&] { return daemons_->TargetDs(); });
  }

 private:
  static std::unique_ptr<httplib::Client> MemberClient(
      const StandinDs* ds, std::unique_ptr<httplib::Client> daemon) {
    if (ds == nullptr) return daemon;
    auto c = std::make_unique<httplib::Client>("127.0.0.1", ds->port());
    c->set_read_timeout(std::chrono::seconds(10));
    return c;
  }
  template <typename Embedded>
  std::unique_ptr<DeliveryService> Ds(const daemon::Config& config,
                                      Embedded embedded) {
    if (config.ds.mode != "http") return embedded();
    auto ds = daemon::CreateHttpDeliveryService(config, SystemClock::Get());
    EXPECT_TRUE(ds.ok()) << ds.status().ToString();
    return ds.ok() ? std::move(ds).value() : nullptr;
  }

  testing::TempDir dir_;
  std::string error_;
  std::unique_ptr<StandinDs> source_standin_;
  std::unique_ptr<StandinDs> target_standin_;
  std::unique_ptr<TwoDaemons> daemons_;
};

// Messages in the member log of a DS (GET /ds/v1/groups/{id}/messages).
std::vector<Bytes> MemberLog(httplib::Client& c, ByteSpan group_id) {
  std::vector<Bytes> out;
  auto r =
      c.Get(("/ds/v1/groups/" + ToHex(group_id) + "/messages?after=0").c_str());
  EXPECT_TRUE(r);
  if (!r) return out;
  EXPECT_EQ(r->status, 200) << r->body;
  auto j = mimi::codec::ParseJson(r->body);
  if (!j.is_object() || !j["messages"].is_array()) return out;
  for (const auto& m : j["messages"]) {
    out.push_back(FromHex(m["message"].get<std::string>()).value());
  }
  return out;
}

// Fan-outs the stand-in actually made for (group, migration).
int FanOuts(const StandinDs& ds, ByteSpan group_id, const std::string& id) {
  json stats = StandinCall(ds, "GET", "/standin/v1/stats");
  int n = 0;
  for (const auto& f : stats["fan_outs"]) {
    if (f["group_id"] == ToHex(group_id) && f["migration_id"] == id) ++n;
  }
  return n;
}

// The seq the stand-in gave the migration commit at its fan-out (0: none).
uint64_t FanOutSeq(const StandinDs& ds, ByteSpan group_id, const std::string& id) {
  json stats = StandinCall(ds, "GET", "/standin/v1/stats");
  for (const auto& f : stats["fan_outs"]) {
    if (f["group_id"] == ToHex(group_id) && f["migration_id"] == id) {
      return f["seq"].get<uint64_t>();
    }
  }
  return 0;
}

// The seq of `message` in the group's log at the member API (0: absent).
uint64_t SeqOf(httplib::Client& c, ByteSpan group_id, ByteSpan message) {
  auto r =
      c.Get(("/ds/v1/groups/" + ToHex(group_id) + "/messages?after=0").c_str());
  if (!r || r->status != 200) return 0;
  auto j = mimi::codec::ParseJson(r->body);
  if (!j.is_object() || !j["messages"].is_array()) return 0;
  for (const auto& m : j["messages"]) {
    if (m["message"] == ToHex(message)) return m["seq"].get<uint64_t>();
  }
  return 0;
}

// What every finished migration leaves behind, whichever DS each side runs.
void ExpectMigrated(ExternalDsSetup& s, ByteSpan gid, const std::string& id,
                    uint64_t epoch, uint16_t suite) {
  TwoDaemons& d = s.d();
  auto source_row =
      d.SourceStore()->GetWithMessages(id, store::Role::kSource, store::kAllMessages);
  ASSERT_TRUE(source_row.ok()) << source_row.status().ToString();
  EXPECT_EQ(source_row->state, store::MigrationState::kPurged)
      << source_row->last_error;
  EXPECT_EQ(source_row->ciphersuite, suite);
  EXPECT_EQ(source_row->epoch, epoch);
  EXPECT_FALSE(source_row->confirmation.empty());
  auto target_row = d.TargetStore()->Get(id, store::Role::kTarget);
  ASSERT_TRUE(target_row.ok()) << target_row.status().ToString();
  EXPECT_EQ(target_row->state, store::MigrationState::kImported);
  EXPECT_EQ(target_row->content_hash, source_row->content_hash);

  // The source DS keeps only a tombstone pointing at the target.
  auto source_ds = s.SourceDs();
  ASSERT_NE(source_ds, nullptr);
  auto tomb = source_ds->LookupTombstone(gid);
  ASSERT_TRUE(tomb.ok()) << tomb.status().ToString();
  EXPECT_EQ(tomb->moved_to, "target.test");
  EXPECT_EQ(tomb->confirmation, source_row->confirmation);
  EXPECT_EQ(source_ds->LookupGroup(gid).status().reason(), "moved");

  // The target DS holds the group one epoch on, imported by this migration.
  auto target_ds = s.TargetDs();
  ASSERT_NE(target_ds, nullptr);
  auto group = target_ds->LookupGroup(gid);
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(group->epoch, epoch + 1);
  EXPECT_EQ(group->ciphersuite, suite);
  EXPECT_FALSE(group->frozen);
  EXPECT_EQ(group->migration_id, id);

  // Members who missed the fan-out find the commit at the target, once.
  auto log = MemberLog(*s.TargetMemberClient(), gid);
  EXPECT_EQ(std::count(log.begin(), log.end(), source_row->commit), 1)
      << log.size() << " messages at the target";
  // The source stand-in appended the commit to its log exactly once.
  if (s.source_standin()) {
    EXPECT_EQ(FanOuts(*s.source_standin(), gid, id), 1);
    // ...with the seq the target gave it: members keep their cursors.
    const uint64_t fanned_out = FanOutSeq(*s.source_standin(), gid, id);
    EXPECT_NE(fanned_out, 0u);
    EXPECT_EQ(SeqOf(*s.TargetMemberClient(), gid, source_row->commit), fanned_out);
  }
}

// ------------------------------------------------ real ts-mls members

struct Case {
  const char* name;
  bool source_external;
  bool target_external;
  int suite;
  const char* wire;
};

class ExternalDsTsMls : public ::testing::TestWithParam<Case> {};

TEST_P(ExternalDsTsMls, MembersMoveTheirGroupThroughTheHooks) {
  if (std::string why = MissingPython(); !why.empty()) GTEST_SKIP() << why;
  if (std::string why = MissingNode(); !why.empty()) GTEST_SKIP() << why;
  const Case& c = GetParam();
  ExternalDsSetup s(c.source_external, c.target_external);
  ASSERT_TRUE(s.ok()) << s.error();
  TwoDaemons& d = s.d();

  testing::TempDir scratch;
  const std::string log = (scratch / "driver.log").string();
  // --source-ds / --target-ds only for an external side: an embedded one
  // takes the driver's default (the daemon's own URL).
  std::string ds_urls;
  if (c.source_external)
    ds_urls += " --source-ds " + ShellQuote(s.SourceDsUrl());
  if (c.target_external)
    ds_urls += " --target-ds " + ShellQuote(s.TargetDsUrl());
  const std::string command =
      "node " + ShellQuote((TsMlsDir() / "migrate_e2e.mjs").string()) +
      " --source https://127.0.0.1:" + std::to_string(d.source_port()) +
      " --target https://127.0.0.1:" + std::to_string(d.target_port()) +
      ds_urls + " --ca " + ShellQuote(d.ca_file()) + " --token " +
      ShellQuote(d.client_token()) + " --source-token " +
      ShellQuote(d.source_client_token()) + " --suite " +
      std::to_string(c.suite) + " --wire " + c.wire + " --json 2>" +
      ShellQuote(log);
  const testing::CommandResult run = RunCommand(command);
  const std::string steps = RunCommand("cat " + ShellQuote(log)).output;
  ASSERT_EQ(run.exit_code, 0) << steps << "\nstdout: " << run.output;
  std::string last = run.output;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  const size_t nl = last.rfind('\n');
  const json summary = mimi::codec::ParseJson(
      nl == std::string::npos ? last : last.substr(nl + 1));
  ASSERT_TRUE(summary.is_object()) << run.output;
  EXPECT_EQ(summary.value("ok", false), true) << mimi::codec::DumpJson(summary);
  EXPECT_EQ(summary.value("epoch", 0), 2);
  // One message before the move (read by two), three after (two each).
  EXPECT_EQ(summary.value("messages_exchanged", 0), 8);
  const std::string id = summary.value("migration_id", "");
  ASSERT_EQ(id.size(), 64u) << mimi::codec::DumpJson(summary);
  const Bytes gid = FromHex(summary.value("group_id", "")).value();

  ExpectMigrated(s, gid, id, 1, static_cast<uint16_t>(c.suite));
  // The message sent before the move, the commit, three sent after.
  EXPECT_EQ(MemberLog(*s.TargetMemberClient(), gid).size(), 5u);
  // In http mode the daemon serves no member API: members use their DS.
  for (const bool source : {true, false}) {
    if (!(source ? c.source_external : c.target_external)) continue;
    auto daemon = source ? d.SourceClient() : d.TargetClient();
    auto r = daemon->Get(("/ds/v1/groups/" + ToHex(gid)).c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << r->body;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sides, ExternalDsTsMls,
    ::testing::Values(Case{"EmbeddedToExternal", false, true, 1, "public"},
                      Case{"ExternalToEmbedded", true, false, 2, "private"},
                      Case{"ExternalToExternal", true, true, 1, "private"}),
    [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// --------------------------------------- the DS fails during a hook

constexpr uint16_t kSuite = 1;
constexpr uint64_t kHookEpoch = 3;  // of the group in the hook tests

// One pair of daemons and stand-ins for all cases (each its own group), so
// that the suite stays fast; every case leaves both stand-ins running and
// disarmed.
class ExternalDsFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (MissingPython().empty()) shared_ = new ExternalDsSetup(true, true);
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override {
    if (std::string why = MissingPython(); !why.empty()) GTEST_SKIP() << why;
    s_ = shared_;
    ASSERT_NE(s_, nullptr);
    ASSERT_TRUE(s_->ok()) << s_->error();
    ASSERT_TRUE(s_->source_standin()->running() &&
                s_->target_standin()->running());
    auto cs = crypto::LookupCipherSuite(kSuite);
    ASSERT_TRUE(cs.ok());
    std::vector<testing::SyntheticMember> members;
    for (const char* name : {"alice", "bob", "carol"}) {
      keys_.push_back(
          crypto::SigningKey::Generate(cs->signature_scheme).value());
      members.push_back({name, keys_.back().public_key().encoded()});
    }
    gid_ = ToBytes(
        "external-ds-" +
        std::string(
            ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    int status = 0;
    json created = StandinCall(
        *s_->source_standin(), "POST", "/ds/v1/groups",
        {{"group_info",
          ToHex(testing::SyntheticGroupInfo(
              kSuite, gid_, kHookEpoch,
              testing::SyntheticRatchetTree(kSuite, members), 0, keys_[0]))},
         {"ratchet_tree",
          ToHex(testing::SyntheticRatchetTree(kSuite, members))}},
        &status);
    ASSERT_EQ(status, 201) << mimi::codec::DumpJson(created);
  }

  // Leaves the shared stand-ins running and disarmed, even after a failure.
  void TearDown() override {
    if (s_ == nullptr || !s_->ok()) return;
    for (StandinDs* ds : {s_->source_standin(), s_->target_standin()}) {
      if (!ds->running()) {
        EXPECT_TRUE(ds->Restart().ok());
      }
      StandinCall(*ds, "POST", "/standin/v1/fail", {{"count", 0}});
    }
  }

  // MigrationResponse from the target, then the signed MigrationInitRequest.
  Bytes MakeInit(std::string* id) {
    TwoDaemons& d = s_->d();
    const MigrationRequest request{ToBytes("source.test"),
                                   ToBytes("target.test"), gid_, kHookEpoch};
    const Bytes body = Encode(request).value();
    auto r = d.TargetClient()->Post(
        "/mimi-portability/v1/request",
        {{"MIMI-Cipher-Suite", std::to_string(kSuite)},
         {"Authorization", "Bearer " + d.client_token()}},
        reinterpret_cast<const char*>(body.data()), body.size(),
        endpoints::kMediaType);
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    auto response = Decode<MigrationResponse>(ToBytes(r->body));
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    if (!response.ok()) return {};
    *id = ToHex(response->nonce);
    commit_ = testing::SyntheticPublicCommit(
        gid_, kHookEpoch, 1,
        Encode(MigrationCommitAAD{ToBytes("target.test")}).value());
    MigrationInit init{*response, {}};
    EXPECT_TRUE(crypto::SignMessage(keys_[1], &init).ok());
    return Encode(MigrationInitRequest{init, 1, commit_}).value();
  }

  // POST init: 200 (confirmed) or 202 (still running) are both fine here.
  void PostInit(const Bytes& init) {
    auto r = s_->d().SourceClient()->Post(
        "/mimi-portability/v1/init", reinterpret_cast<const char*>(init.data()),
        init.size(), endpoints::kMediaType);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->status == 200 || r->status == 202)
        << r->status << " " << r->body;
  }

  store::MigrationState SourceState(const std::string& id) {
    auto row = s_->d().SourceStore()->Get(id, store::Role::kSource);
    return row.ok() ? row->state : store::MigrationState::kAborted;
  }

  // Waits (up to `patience_s` seconds) for the source row to reach `state`.
  bool WaitFor(const std::string& id, store::MigrationState state,
               int patience_s = 20) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(patience_s);
    while (std::chrono::steady_clock::now() < deadline) {
      if (SourceState(id) == state) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Arms the stand-in to fail the next `count` calls of `hook`.
  static void Arm(const StandinDs& ds, const std::string& hook, int count,
                  const std::string& when) {
    int status = 0;
    json out = StandinCall(
        ds, "POST", "/standin/v1/fail",
        {{"count", count}, {"status", 503}, {"hook", hook}, {"when", when}},
        &status);
    ASSERT_EQ(status, 200) << mimi::codec::DumpJson(out);
  }

  static int Injected(const StandinDs& ds, const std::string& hook) {
    return StandinCall(ds, "GET", "/standin/v1/stats")["injected"].value(hook,
                                                                         0);
  }

  // A whole migration while `hook` fails `count` times at one side's DS.
  void MigrateThroughFailures(const std::string& hook, bool at_target,
                              const std::string& when, int count = 3) {
    StandinDs& ds = at_target ? *s_->target_standin() : *s_->source_standin();
    std::string id;
    const Bytes init = MakeInit(&id);
    ASSERT_FALSE(init.empty());
    const int injected_before = Injected(ds, hook);
    Arm(ds, hook, count, when);
    PostInit(init);
    const bool done = WaitFor(id, store::MigrationState::kPurged);
    auto row = s_->d().SourceStore()->Get(id, store::Role::kSource);
    ASSERT_TRUE(done) << "source row is " << store::StateName(row->state)
                      << ": " << row->last_error;
    EXPECT_EQ(Injected(ds, hook) - injected_before, count);
    ExpectMigrated(*s_, gid_, id, kHookEpoch, kSuite);
  }

  static ExternalDsSetup* shared_;
  ExternalDsSetup* s_ = nullptr;
  std::vector<crypto::SigningKey> keys_;
  Bytes gid_;
  Bytes commit_;
};

ExternalDsSetup* ExternalDsFaults::shared_ = nullptr;

TEST_F(ExternalDsFaults, FreezeFailsAtTheSource) {
  MigrateThroughFailures("freeze", false, "before");
}
TEST_F(ExternalDsFaults, ExportFailsAtTheSource) {
  MigrateThroughFailures("export", false, "before");
}
TEST_F(ExternalDsFaults, ImportFailsAtTheTarget) {
  MigrateThroughFailures("import", true, "before");
}
TEST_F(ExternalDsFaults, ImportAnswerLostAtTheTarget) {
  MigrateThroughFailures("import", true, "after");
}
TEST_F(ExternalDsFaults, FanOutFailsAtTheSource) {
  MigrateThroughFailures("fan-out", false, "before");
}
TEST_F(ExternalDsFaults, FanOutAnswerLostAtTheSource) {
  MigrateThroughFailures("fan-out", false, "after");
}
TEST_F(ExternalDsFaults, DeleteFailsAtTheSource) {
  MigrateThroughFailures("delete", false, "before");
}
TEST_F(ExternalDsFaults, DeleteAnswerLostAtTheSource) {
  MigrateThroughFailures("delete", false, "after");
}

// The target's DS is down (process stopped) when the content arrives: the
// source keeps resending it and finishes once the DS is back.
TEST_F(ExternalDsFaults, TargetDsDownDuringImport) {
  std::string id;
  const Bytes init = MakeInit(&id);
  ASSERT_FALSE(init.empty());
  s_->target_standin()->Stop();
  // The init answers 202 only after its wait (5 s); meanwhile, bring the DS
  // back.
  std::thread client([&] { PostInit(init); });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(SourceState(id), store::MigrationState::kContentSent);
  auto row = s_->d().SourceStore()->Get(id, store::Role::kSource);
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->last_error.empty());  // retrying, not aborting
  EXPECT_TRUE(s_->target_standin()->Restart().ok());
  const bool purged = WaitFor(id, store::MigrationState::kPurged);
  client.join();
  ASSERT_TRUE(purged) << store::StateName(SourceState(id));
  ExpectMigrated(*s_, gid_, id, kHookEpoch, kSuite);
}

// The source's DS goes down after the fan-out, before the purge: the row
// waits in "confirmed" and is purged once the DS is back.
TEST_F(ExternalDsFaults, SourceDsDownDuringPurge) {
  StandinDs& ds = *s_->source_standin();
  std::string id;
  const Bytes init = MakeInit(&id);
  ASSERT_FALSE(init.empty());
  Arm(ds, "delete", 1000000, "before");  // until the stand-in restarts
  PostInit(init);
  ASSERT_TRUE(WaitFor(id, store::MigrationState::kConfirmed));
  ds.Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(SourceState(id), store::MigrationState::kConfirmed);
  ASSERT_TRUE(ds.Restart().ok());  // failures are not kept across restarts
  ASSERT_TRUE(WaitFor(id, store::MigrationState::kPurged))
      << store::StateName(SourceState(id));
  ExpectMigrated(*s_, gid_, id, kHookEpoch, kSuite);
}

}  // namespace
}  // namespace mimi
