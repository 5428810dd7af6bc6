#include "daemon/ds_routes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "store/sqlite_store.h"
#include "testing/temp_dir.h"

namespace mimi::daemon {
namespace {

using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string FixtureHex(const std::string& name) {
  std::string hex = ReadFile(std::string(MIMI_TEST_DATA_DIR) + "/mls/" + name);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  return hex;
}

class DsRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = dir_ / "ds.db";
    auto store = store::SqliteStore::Open(path, clock_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    auto ds = embedded_ds::EmbeddedDs::Open(path, clock_);
    ASSERT_TRUE(ds.ok());
    ds_ = std::move(ds).value();
    HttpServerOptions o;
    o.plain_http = true;
    o.threads = 4;
    server_ = std::move(HttpServer::Create(o, &metrics_)).value();
    RegisterDsRoutes(*server_, *ds_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_tcp_nodelay(true);
    manifest_ = json::parse(ReadFile(std::string(MIMI_TEST_DATA_DIR) + "/mls/manifest.json"));
    gid_ = manifest_["suites"][0]["group_id"];
  }

  std::pair<int, json> Post(const std::string& path, const json& body) {
    auto r = client_->Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body)};
  }
  std::pair<int, json> Get(const std::string& path) {
    auto r = client_->Get(path.c_str());
    EXPECT_TRUE(r);
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body)};
  }

  FakeClock clock_;
  testing::TempDir dir_;
  Metrics metrics_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<embedded_ds::EmbeddedDs> ds_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  json manifest_;
  std::string gid_;
};

TEST_F(DsRoutesTest, GroupLifecycleOverHttp) {
  const std::string tree = FixtureHex("ratchet_tree_suite1.hex");
  auto [st, created] = Post("/ds/v1/groups",
                            {{"group_info", "00010004" + FixtureHex("group_info_suite1.hex")},
                             {"ratchet_tree", tree}});
  ASSERT_EQ(st, 201) << created.dump();
  EXPECT_EQ(created["group_id"], gid_);
  EXPECT_EQ(created["epoch"], 1);

  auto [st2, sent] = Post("/ds/v1/groups/" + gid_ + "/messages",
                          {{"message", FixtureHex("application_suite1.hex")}});
  ASSERT_EQ(st2, 200) << sent.dump();
  EXPECT_EQ(sent["seq"], 1);

  auto [st3, committed] = Post("/ds/v1/groups/" + gid_ + "/commits",
                               {{"commit", FixtureHex("commit_public_suite1.hex")},
                                {"ratchet_tree", tree}});
  ASSERT_EQ(st3, 200) << committed.dump();
  EXPECT_EQ(committed["seq"], 2);
  EXPECT_EQ(committed["epoch"], 2);

  auto [st4, stale] = Post("/ds/v1/groups/" + gid_ + "/commits",
                           {{"commit", FixtureHex("commit_public_suite1.hex")},
                            {"ratchet_tree", tree}});
  EXPECT_EQ(st4, 409);
  EXPECT_EQ(stale["error"], "epoch-mismatch");

  auto [st5, fetched] = Get("/ds/v1/groups/" + gid_ + "/messages?after=1");
  ASSERT_EQ(st5, 200);
  ASSERT_EQ(fetched["messages"].size(), 1u);
  EXPECT_EQ(fetched["messages"][0]["seq"], 2);
  EXPECT_EQ(fetched["messages"][0]["message"], FixtureHex("commit_public_suite1.hex"));

  auto [st6, details] = Get("/ds/v1/groups/" + gid_);
  ASSERT_EQ(st6, 200);
  EXPECT_EQ(details["members"], 3);
  EXPECT_EQ(details["frozen"], false);

  // Moved groups answer 410 with their new home.
  ASSERT_TRUE(ds_->Freeze(*FromHex(gid_), 2, "m1").ok());
  ASSERT_TRUE(ds_->DeleteGroup(*FromHex(gid_),
                               {*FromHex(gid_), "target.test", 1, Bytes{1}}, "m1")
                  .ok());
  auto [st7, moved] = Get("/ds/v1/groups/" + gid_ + "/messages");
  EXPECT_EQ(st7, 410);
  EXPECT_EQ(moved["error"], "moved");
  EXPECT_EQ(moved["moved_to"], "target.test");
}

TEST_F(DsRoutesTest, BadRequestsGetStableCodes) {
  EXPECT_EQ(Post("/ds/v1/groups", json::array()).second["error"], "malformed");
  EXPECT_EQ(Post("/ds/v1/groups", {{"group_info", "zz"}}).second["error"], "malformed");
  EXPECT_EQ(Post("/ds/v1/groups", {{"group_info", "00"}, {"ratchet_tree", "00"}}).first, 400);
  EXPECT_EQ(Get("/ds/v1/groups/abcd").second["error"], "unknown-group");
  EXPECT_EQ(Get("/ds/v1/groups/abcd/messages?after=x").second["error"], "malformed");
  auto r = client_->Post("/ds/v1/groups", "{not json", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(*ds_->CountGroups(), 0u);
}

}  // namespace
}  // namespace mimi::daemon
