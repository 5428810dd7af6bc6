// The admin API on a real HttpServer (plain HTTP, port 0) over a real
// SqliteStore in a temp dir: bearer token on every route, list filters, the
// full view of one migration with its events, stats, retry and abort through
// a recording AdminActions, and the admin token file's creation and checks.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "admin_api/admin_token.h"
#include "codec/json_text.h"
#include "daemon/admin_routes.h"
#include "store/sqlite_store.h"
#include "store_testing.h"

namespace mimi::daemon {
namespace {

using admin_api::AdminTokenMatches;
using admin_api::AdminTokenPath;
using admin_api::LoadOrCreateAdminToken;
using admin_api::ReadAdminToken;
using nlohmann::json;
using store::MigrationState;
using store::Role;
using store::testing::DataFor;
using store::testing::FindRule;
using store::testing::MakeId;
using store::testing::MakeRecord;
using store::testing::TempDir;

const std::string kToken(64, 'a');

// Records every call; answers with `answer`.
class RecordingActions : public AdminActions {
 public:
  Status Retry(std::string_view id) override { return Record("retry", id); }
  Status Abort(std::string_view id) override { return Record("abort", id); }

  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  Status answer = Status::Ok();

 private:
  Status Record(const char* what, std::string_view id) {
    std::lock_guard lock(mu_);
    calls_.push_back(std::string(what) + " " + std::string(id));
    return answer;
  }
  std::mutex mu_;
  std::vector<std::string> calls_;
};

class AdminRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::SqliteStore::Open(dir_.File("mimi.db"), clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    StartServer(&actions_);
  }

  void StartServer(AdminActions* actions) {
    HttpServerOptions o;
    o.name = "admin";
    o.plain_http = true;
    o.threads = 2;
    auto s = HttpServer::Create(o, &metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    RegisterAdminRoutes(*server_, *store_, kToken, actions, clock_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  void Step(const std::string& id, Role role, MigrationState from, MigrationState to) {
    auto out = store_->Transition(id, role, from, to,
                                  DataFor(*FindRule(role, from, to)));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }

  // Three migrations: a (source, content-sent, group g1), b (source,
  // initiated, stalled, group g2), and t (target, requested, group g1).
  void Fill() {
    ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(a_, Role::kSource, "g1"),
                                              "client asked").ok());
    clock_.Advance(1000);
    ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(b_, Role::kSource, "g2"),
                                              "client asked").ok());
    clock_.Advance(1000);
    ASSERT_TRUE(store_->CreateTargetMigration(MakeRecord(t_, Role::kTarget, "g1"),
                                              clock_.NowMillis() + 600'000,
                                              "nonce issued").ok());
    clock_.Advance(1000);
    Step(a_, Role::kSource, MigrationState::kInitiated, MigrationState::kContentSent);
    ASSERT_TRUE(store_->RecordFailure(b_, Role::kSource, "target.example: 503",
                                      clock_.NowMillis() + 60'000, true).ok());
  }

  httplib::Headers Auth(const std::string& token = kToken) {
    return {{"Authorization", "Bearer " + token}};
  }
  json Body(const httplib::Result& r) {
    return mimi::codec::ParseJson(r->body);
  }
  json GetJson(const std::string& path, int want_status = 200) {
    auto r = client_->Get(path, Auth());
    EXPECT_TRUE(r) << path;
    if (!r) return json();
    EXPECT_EQ(r->status, want_status) << path << ": " << r->body;
    return Body(r);
  }
  std::vector<std::string> ListIds(const std::string& query) {
    json j = GetJson("/admin/v1/migrations" + query);
    std::vector<std::string> ids;
    for (const json& m : j["migrations"]) {
      ids.push_back(m["id"].get<std::string>() + "/" + m["role"].get<std::string>());
    }
    return ids;
  }

  TempDir dir_;
  FakeClock clock_;
  Metrics metrics_;
  RecordingActions actions_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  const std::string a_ = MakeId(1), b_ = MakeId(2), t_ = MakeId(3);
};

TEST_F(AdminRoutesTest, EveryRouteNeedsTheBearerToken) {
  Fill();
  const std::vector<httplib::Headers> bad = {
      {},
      {{"Authorization", "Bearer " + std::string(64, 'b')}},
      {{"Authorization", "Bearer " + kToken + "0"}},
      {{"Authorization", "Bearer " + kToken.substr(1)}},
      {{"Authorization", "Basic " + kToken}},
      {{"Authorization", "Bearer"}},
  };
  const std::vector<std::string> gets = {"/admin/v1/migrations",
                                         "/admin/v1/migrations/" + a_,
                                         "/admin/v1/stats"};
  for (const auto& headers : bad) {
    for (const std::string& path : gets) {
      auto r = client_->Get(path, headers);
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 401) << path;
      EXPECT_EQ(Body(r)["error"], "unauthorized");
      EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
    }
    for (const char* action : {"retry", "abort"}) {
      auto r = client_->Post("/admin/v1/migrations/" + a_ + "/" + action, headers,
                             "", "application/json");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 401);
    }
  }
  EXPECT_TRUE(actions_.calls().empty());
  // The scheme name is case-insensitive; the token is not.
  auto ok = client_->Get("/admin/v1/stats", {{"Authorization", "bearer " + kToken}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto upper = client_->Get("/admin/v1/stats",
                            {{"Authorization", "Bearer " + std::string(64, 'A')}});
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->status, 401);
  EXPECT_EQ(ok->get_header_value("Cache-Control"), "no-store");
}

TEST_F(AdminRoutesTest, ListsWithFilters) {
  Fill();
  EXPECT_EQ(ListIds(""), (std::vector<std::string>{t_ + "/target", b_ + "/source",
                                                   a_ + "/source"}));
  EXPECT_EQ(ListIds("?role=source"),
            (std::vector<std::string>{b_ + "/source", a_ + "/source"}));
  EXPECT_EQ(ListIds("?state=content-sent"), (std::vector<std::string>{a_ + "/source"}));
  EXPECT_EQ(ListIds("?group=" + ToHex(ToBytes("g1"))),
            (std::vector<std::string>{t_ + "/target", a_ + "/source"}));
  EXPECT_EQ(ListIds("?group=" + ToHex(ToBytes("g1")) + "&role=target&state=requested"),
            (std::vector<std::string>{t_ + "/target"}));
  // White space is no hex digit: a group of only that is no filter, as an
  // empty one (found by fuzz_AdminRequest).
  EXPECT_EQ(ListIds("?group=%20%0d%0a"), ListIds(""));
  EXPECT_EQ(ListIds("?group="), ListIds(""));
  EXPECT_EQ(ListIds("?limit=2").size(), 2u);
  EXPECT_TRUE(ListIds("?state=purged").empty());

  json j = GetJson("/admin/v1/migrations?role=source&state=initiated");
  EXPECT_EQ(j["now"], clock_.NowMillis());
  ASSERT_EQ(j["migrations"].size(), 1u);
  const json& b = j["migrations"][0];
  EXPECT_EQ(b["group_id"], ToHex(ToBytes("g2")));
  EXPECT_EQ(b["attempt_count"], 1);
  EXPECT_EQ(b["last_error"], "target.example: 503");
  EXPECT_EQ(b["stalled_since"], clock_.NowMillis());
  EXPECT_EQ(b["next_attempt_at"], clock_.NowMillis() + 60'000);
  EXPECT_FALSE(b.contains("messages"));  // the list leaves the bytes out

  for (std::string bad : {"?state=flying", "?role=middle", "?group=xyz",
                                 "?limit=0", "?limit=1001", "?limit=ten"}) {
    json e = GetJson("/admin/v1/migrations" + bad, 400);
    EXPECT_EQ(e["error"], "malformed") << bad;
    EXPECT_FALSE(e["detail"].get<std::string>().empty());
  }
}

TEST_F(AdminRoutesTest, ShowsEveryFieldAndTheEventHistory) {
  Fill();
  // A DS that is both ends of one migration has two rows under one id.
  auto both = MakeRecord(a_, Role::kTarget, "g1");
  ASSERT_TRUE(store_->CreateTargetMigration(both, clock_.NowMillis() + 1000, "issued")
                  .ok());
  json j = GetJson("/admin/v1/migrations/" + a_);
  EXPECT_EQ(j["id"], a_);
  ASSERT_EQ(j["migrations"].size(), 2u);
  const json& src = j["migrations"][0];
  EXPECT_EQ(src["role"], "source");
  EXPECT_EQ(j["migrations"][1]["role"], "target");
  EXPECT_EQ(src["state"], "content-sent");
  EXPECT_EQ(src["epoch"], 7);
  EXPECT_EQ(src["ciphersuite"], 1);
  EXPECT_EQ(src["source_domain"], "source.example");
  EXPECT_EQ(src["target_domain"], "target.example");
  EXPECT_EQ(src["messages"]["request"], ToHex(ToBytes("request:" + a_)));
  EXPECT_EQ(src["messages"]["init_request"], ToHex(ToBytes("init:" + a_)));
  EXPECT_EQ(src["messages"]["commit"], ToHex(ToBytes("commit:" + a_)));
  EXPECT_EQ(src["messages"]["content"], ToHex(ToBytes("content:v1")));
  EXPECT_EQ(src["messages"]["content_hash"], ToHex(ToBytes("hash:v1")));
  EXPECT_TRUE(src["messages"]["confirmation"].is_null());
  EXPECT_TRUE(src["lease_owner"].is_null());
  EXPECT_EQ(src["created_at"], 1'700'000'000'000);
  EXPECT_EQ(src["updated_at"], 1'700'000'003'000);
  ASSERT_EQ(src["events"].size(), 2u);
  EXPECT_TRUE(src["events"][0]["from"].is_null());
  EXPECT_EQ(src["events"][0]["to"], "initiated");
  EXPECT_EQ(src["events"][0]["detail"], "client asked");
  EXPECT_EQ(src["events"][0]["at"], 1'700'000'000'000);
  EXPECT_EQ(src["events"][1]["from"], "initiated");
  EXPECT_EQ(src["events"][1]["to"], "content-sent");
  EXPECT_LT(src["events"][0]["seq"].get<int64_t>(), src["events"][1]["seq"].get<int64_t>());

  // Ids in capitals are the same id.
  std::string upper = b_;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(GetJson("/admin/v1/migrations/" + upper)["id"], b_);

  EXPECT_EQ(GetJson("/admin/v1/migrations/" + MakeId(42), 404)["error"], "not-found");
  EXPECT_EQ(GetJson("/admin/v1/migrations/nothex", 400)["error"], "malformed");
  EXPECT_EQ(GetJson("/admin/v1/migrations/" + a_ + "00", 400)["error"], "malformed");
}

// Operators see who holds each lease and whether it is alive; a row whose
// holder is dead is flagged (docs/operations.md "Lease holders").
TEST_F(AdminRoutesTest, NamesEachLeaseHolderAndFlagsADeadOne) {
  Fill();
  auto dead = store_->RegisterLeaseHolder("node-a", "host-a", 11, 6000);
  auto live = store_->RegisterLeaseHolder("node-b", "host-b", 22, 6000);
  ASSERT_TRUE(dead.ok() && live.ok());
  ASSERT_TRUE(store_->AcquireLease(a_, Role::kSource, "node-a/1#1", 600'000).ok());
  ASSERT_TRUE(store_->AcquireLease(b_, Role::kSource, "node-b/1#1", 600'000).ok());
  // A lease from before lease holders names no registered holder.
  ASSERT_TRUE(store_->AcquireLease(t_, Role::kTarget, "old:1:ab#4", 600'000).ok());
  ASSERT_TRUE(store_->RegisterLeaseHolder("node-a", "host-a", 33, 6000).ok());

  json list = GetJson("/admin/v1/migrations");
  std::map<std::string, json> by_id;
  for (const json& m : list["migrations"]) by_id[m["id"].get<std::string>()] = m;
  EXPECT_EQ(by_id[a_]["lease_owner"], "node-a/1#1");
  EXPECT_EQ(by_id[a_]["lease_holder"], "node-a/1");
  EXPECT_EQ(by_id[a_]["lease_holder_alive"], false);
  EXPECT_EQ(by_id[a_]["lease_state"], "dead-holder");
  EXPECT_EQ(by_id[b_]["lease_holder"], "node-b/1");
  EXPECT_EQ(by_id[b_]["lease_holder_alive"], true);
  EXPECT_EQ(by_id[b_]["lease_state"], "held");
  EXPECT_EQ(by_id[b_]["lease_expires_at"], clock_.NowMillis() + 600'000);
  EXPECT_EQ(by_id[t_]["lease_holder"], "old:1:ab");
  EXPECT_TRUE(by_id[t_]["lease_holder_alive"].is_null());
  EXPECT_EQ(by_id[t_]["lease_state"], "held");

  json show = GetJson("/admin/v1/migrations/" + a_);
  EXPECT_EQ(show["migrations"][0]["lease_state"], "dead-holder");
  EXPECT_EQ(show["migrations"][0]["lease_holder_alive"], false);

  // b's holder stops beating: dead too, once its heartbeat has lapsed.
  clock_.Advance(6000);
  ASSERT_TRUE(store_->HeartbeatLeaseHolder("node-a/2", 6000).ok());
  list = GetJson("/admin/v1/migrations?role=source");
  for (const json& m : list["migrations"]) {
    EXPECT_EQ(m["lease_state"], "dead-holder") << m["id"];
  }

  json stats = GetJson("/admin/v1/stats");
  ASSERT_EQ(stats["lease_holders"].size(), 3u);
  EXPECT_EQ(stats["lease_holders"][0]["holder_id"], "node-a/1");
  EXPECT_EQ(stats["lease_holders"][0]["alive"], false);
  EXPECT_FALSE(stats["lease_holders"][0]["ended_at"].is_null());
  EXPECT_EQ(stats["lease_holders"][1]["holder_id"], "node-a/2");
  EXPECT_EQ(stats["lease_holders"][1]["alive"], true);
  EXPECT_EQ(stats["lease_holders"][1]["pid"], 33);
  EXPECT_EQ(stats["lease_holders"][2]["holder_id"], "node-b/1");
  EXPECT_EQ(stats["lease_holders"][2]["alive"], false);
  EXPECT_EQ(stats["lease_holders"][2]["host"], "host-b");
}

TEST_F(AdminRoutesTest, Stats) {
  json empty = GetJson("/admin/v1/stats");
  EXPECT_EQ(empty["total"], 0);
  EXPECT_EQ(empty["stalled"], 0);
  EXPECT_TRUE(empty["oldest_unfinished_age_ms"].is_null());
  EXPECT_TRUE(empty["counts"].empty());

  Fill();
  json j = GetJson("/admin/v1/stats");
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(j["stalled"], 1);
  EXPECT_EQ(j["oldest_unfinished_age_ms"], 3000);
  EXPECT_EQ(j["now"], clock_.NowMillis());
  std::map<std::string, int> counts;
  for (const json& c : j["counts"]) {
    counts[c["role"].get<std::string>() + "/" + c["state"].get<std::string>()] =
        c["count"].get<int>();
  }
  EXPECT_EQ(counts, (std::map<std::string, int>{{"source/content-sent", 1},
                                                {"source/initiated", 1},
                                                {"target/requested", 1}}));
}

TEST_F(AdminRoutesTest, RetryAndAbortGoThroughAdminActions) {
  Fill();
  std::string upper = a_;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  auto r = client_->Post("/admin/v1/migrations/" + upper + "/retry", Auth(), "",
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(Body(r), (json{{"id", a_}, {"action", "retry"}, {"accepted", true}}));
  r = client_->Post("/admin/v1/migrations/" + b_ + "/abort", Auth(), "",
                    "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(actions_.calls(), (std::vector<std::string>{"retry " + a_, "abort " + b_}));

  // Unknown and malformed ids never reach the engine.
  r = client_->Post("/admin/v1/migrations/" + MakeId(42) + "/abort", Auth(), "",
                    "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = client_->Post("/admin/v1/migrations/zz/retry", Auth(), "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(actions_.calls().size(), 2u);

  // The engine's refusal is the answer.
  actions_.answer = Status(StatusCode::kFailedPrecondition,
                           "source migration is confirmed; it cannot be aborted");
  r = client_->Post("/admin/v1/migrations/" + a_ + "/abort", Auth(), "",
                    "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(Body(r)["error"], "failed-precondition");
  EXPECT_EQ(Body(r)["detail"], "source migration is confirmed; it cannot be aborted");
}

TEST_F(AdminRoutesTest, WithoutAnEngineActionsAnswer503) {
  Fill();
  server_->Stop();
  StartServer(nullptr);
  auto r = client_->Post("/admin/v1/migrations/" + a_ + "/retry", Auth(), "",
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(Body(r)["error"], "unavailable");
  EXPECT_EQ(GetJson("/admin/v1/stats")["total"], 3);  // reads still work
}

// The token file.
class AdminTokenTest : public ::testing::Test {
 protected:
  std::string Path() { return AdminTokenPath(dir_.path().string()); }
  TempDir dir_;
};

TEST_F(AdminTokenTest, CreatedOnceWithMode0600And64HexDigits) {
  auto t = LoadOrCreateAdminToken(dir_.path().string());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), 64u);
  EXPECT_EQ(t->find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(Path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(LoadOrCreateAdminToken(dir_.path().string()).value(), *t);
  EXPECT_EQ(ReadAdminToken(Path()).value(), *t);
  // No temporary files are left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  TempDir other;
  EXPECT_NE(LoadOrCreateAdminToken(other.path().string()).value(), *t);
}

TEST_F(AdminTokenTest, RefusesReadableByOthersMalformedAndSymlinks) {
  ASSERT_TRUE(LoadOrCreateAdminToken(dir_.path().string()).ok());
  for (mode_t mode : {0640, 0604, 0660}) {
    ASSERT_EQ(chmod(Path().c_str(), mode), 0);
    auto t = LoadOrCreateAdminToken(dir_.path().string());
    EXPECT_EQ(t.status().code(), StatusCode::kPermissionDenied) << std::oct << mode;
    EXPECT_NE(t.status().detail().find("group or others"), std::string::npos);
  }
  ASSERT_EQ(chmod(Path().c_str(), 0600), 0);
  { std::ofstream(Path(), std::ios::trunc) << "not-a-token\n"; }
  EXPECT_EQ(LoadOrCreateAdminToken(dir_.path().string()).status().code(),
            StatusCode::kMalformed);
  std::filesystem::remove(Path());
  TempDir other;
  ASSERT_TRUE(LoadOrCreateAdminToken(other.path().string()).ok());
  std::filesystem::create_symlink(AdminTokenPath(other.path().string()), Path());
  EXPECT_EQ(LoadOrCreateAdminToken(dir_.path().string()).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ReadAdminToken((dir_.path() / "missing").string()).status().code(),
            StatusCode::kNotFound);
}

TEST(AdminTokenMatchesTest, ExactMatchOnly) {
  EXPECT_TRUE(AdminTokenMatches(kToken, kToken));
  EXPECT_FALSE(AdminTokenMatches(kToken, kToken.substr(0, 63) + "b"));
  EXPECT_FALSE(AdminTokenMatches(kToken, kToken + "a"));
  EXPECT_FALSE(AdminTokenMatches(kToken, ""));
  EXPECT_FALSE(AdminTokenMatches("", ""));
}

}  // namespace
}  // namespace mimi::daemon
