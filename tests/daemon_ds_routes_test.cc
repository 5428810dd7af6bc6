// The embedded DS's member API over HTTP (/ds/v1): the life of a group, and
// every refusal of docs/protocol.md "Member API authentication", each shown
// to leave the stored group exactly as it was. On both store backends
// (testing/store_backend.h): the DS's tables in a SQLite file or in a
// PostgreSQL schema.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "daemon/ds_routes.h"
#include "store/pg/pg_store.h"
#include "store/sqlite_store.h"
#include "testing/ds_member.h"
#include "testing/store_backend.h"
#include "testing/synthetic_mls.h"
#include "testing/temp_dir.h"

namespace mimi::daemon {
namespace {

using nlohmann::json;
using testing::PreparedCommit;
using testing::SyntheticGroup;

constexpr uint16_t kSuite = 1;

struct Reply {
  int status = 0;
  json body;
};

using ::mimi::testing::StoreBackend;

class DsRoutesTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreBackend::kSqlite) {
      path_ = dir_ / "ds.db";
      auto store = store::SqliteStore::Open(path_, clock_);
      ASSERT_TRUE(store.ok());
      store_ = std::move(store).value();
      auto ds = embedded_ds::EmbeddedDs::Open(path_, clock_);
      ASSERT_TRUE(ds.ok());
      ds_ = std::move(ds).value();
    } else {
      if (!testing::TestPgUrl()) GTEST_SKIP() << testing::kNoTestPgMessage;
      auto schema = testing::PgTestSchema::Create(*testing::TestPgUrl());
      ASSERT_TRUE(schema.ok()) << schema.status().ToString();
      pg_schema_ = std::move(schema).value();
      store::pg::PgPoolOptions o;
      o.connect.url = pg_schema_->url();
      auto store = store::pg::PgStore::Open(o, clock_);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      store_ = std::move(store).value();
      auto ds = embedded_ds::EmbeddedDs::Open(
          static_cast<store::pg::PgStore&>(*store_).pool(), clock_);
      ASSERT_TRUE(ds.ok()) << ds.status().ToString();
      ds_ = std::move(ds).value();
    }
    tokens_ = std::make_unique<protocol::ClientTokens>(dir_ / "client_tokens");
    token_ = protocol::ClientTokens::Issue(dir_ / "client_tokens", "alice").value();
    HttpServerOptions o;
    o.plain_http = true;
    o.threads = 4;
    server_ = std::move(HttpServer::Create(o, &metrics_)).value();
    RegisterDsRoutes(*server_, *ds_, tokens_.get());
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_tcp_nodelay(true);
    group_ = SyntheticGroup::Make(kSuite, ToBytes("routes-group"), 5, 3);
  }

  Reply Post(const std::string& path, const std::string& body,
             const httplib::Headers& headers = {}) {
    auto r = client_->Post(path.c_str(), headers, body, "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    return {r->status, mimi::codec::ParseJson(r->body)};
  }
  Reply Get(const std::string& path, const httplib::Headers& headers = {}) {
    auto r = client_->Get(path.c_str(), headers);
    EXPECT_TRUE(r);
    if (!r) return {};
    return {r->status, mimi::codec::ParseJson(r->body)};
  }

  void Create(const SyntheticGroup& g) {
    Reply r = Post("/ds/v1/groups", g.CreateBody(), testing::ClientTokenHeaders(token_));
    ASSERT_EQ(r.status, 201) << mimi::codec::DumpJson(r.body);
  }
  // A member's signed POST to `suffix` of the group.
  Reply MemberPost(const SyntheticGroup& g, uint32_t sender, const std::string& suffix,
                   const std::string& body) {
    const std::string path = g.Path(suffix);
    return Post(path, body, g.Headers(sender, "POST", path, body));
  }

  // Everything the DS stores about a group and its messages.
  std::string StoredState(ByteSpan group_id) {
    if (GetParam() == StoreBackend::kPostgresql) return PgStoredState(group_id);
    SQLite::Database db(path_, SQLite::OPEN_READONLY);
    std::string out;
    SQLite::Statement g(db,
                        "SELECT g.epoch, t.tree_epoch, hex(t.ratchet_tree),"
                        " hex(t.group_info), g.next_seq, g.frozen_by FROM ds_groups g"
                        " JOIN ds_group_trees t USING (group_id) WHERE group_id = ?");
    g.bind(1, group_id.data(), static_cast<int>(group_id.size()));
    while (g.executeStep()) {
      for (int i = 0; i < 6; ++i) out += g.getColumn(i).getString() + "|";
    }
    SQLite::Statement m(db, "SELECT seq, hex(message) FROM ds_messages WHERE group_id = ?");
    m.bind(1, group_id.data(), static_cast<int>(group_id.size()));
    while (m.executeStep()) out += m.getColumn(0).getString() + ":" + m.getColumn(1).getString();
    SQLite::Statement t(db, "SELECT COUNT(*) FROM ds_tombstones");
    t.executeStep();
    return out + "|tombstones=" + t.getColumn(0).getString();
  }

  std::string PgStoredState(ByteSpan group_id) {
    auto c = store::pg::PgConnection::Open({pg_schema_->url(), "", 10});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return "no connection";
    store::pg::PgParams p;
    p.Blob(group_id);
    // Text columns only: results arrive in binary format, which for text
    // is the text itself.
    auto r = (*c)->RunOnce(
        "test",
        "SELECT concat_ws('|', g.epoch, t.tree_epoch, encode(t.ratchet_tree, "
        "'hex'), encode(t.group_info, 'hex'), g.next_seq, g.frozen_by, '') "
        "|| COALESCE((SELECT string_agg(m.seq || ':' || encode(m.message, "
        "'hex'), '' ORDER BY m.seq) FROM ds_messages m WHERE m.group_id = "
        "$1), '') || '|tombstones=' || (SELECT COUNT(*) FROM ds_tombstones) "
        "FROM ds_groups g JOIN ds_group_trees t USING (group_id) "
        "WHERE group_id = $1",
        p);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "query failed";
    return r->rows() == 0 ? "no group" : r->Text(0, 0);
  }

  // Expects `r` to be the refusal (status, reason) and the group unchanged.
  void ExpectRefused(const Reply& r, int status, const std::string& reason,
                     const std::string& before) {
    EXPECT_EQ(r.status, status) << mimi::codec::DumpJson(r.body);
    EXPECT_EQ(r.body.value("error", ""), reason)
        << mimi::codec::DumpJson(r.body);
    EXPECT_EQ(StoredState(group_.group_id()), before);
  }

  FakeClock clock_;
  testing::TempDir dir_;
  std::string path_;
  // Before the store and the DS, which close their pools before it is
  // dropped.
  std::unique_ptr<testing::PgTestSchema> pg_schema_;
  Metrics metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<embedded_ds::EmbeddedDs> ds_;
  std::unique_ptr<protocol::ClientTokens> tokens_;
  std::string token_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  SyntheticGroup group_;
};

TEST_P(DsRoutesTest, GroupLifecycleOverHttp) {
  Create(group_);
  Reply proposal = MemberPost(group_, 1, "/messages", group_.ProposalBody(1));
  ASSERT_EQ(proposal.status, 200) << mimi::codec::DumpJson(proposal.body);
  EXPECT_EQ(proposal.body["seq"], 1);
  const std::string sealed = mimi::codec::DumpJson(json{
      {"message",
       ToHex(testing::SyntheticPrivateMessage(group_.group_id(), 5, 1, {}))}});
  EXPECT_EQ(MemberPost(group_, 2, "/messages", sealed).status, 200);

  // Two commits in a row: the second is checked against the GroupInfo the
  // first one brought.
  for (uint32_t committer : {0u, 2u}) {
    PreparedCommit c = group_.PrepareCommit(committer);
    Reply committed = MemberPost(group_, committer, "/commits", c.body);
    ASSERT_EQ(committed.status, 200) << mimi::codec::DumpJson(committed.body);
    EXPECT_EQ(committed.body["epoch"], group_.epoch() + 1);
    group_.Advance(c);
  }
  Reply fetched = Get(group_.Path("/messages?after=1"));
  ASSERT_EQ(fetched.status, 200);
  ASSERT_EQ(fetched.body["messages"].size(), 3u);
  EXPECT_EQ(fetched.body["messages"][0]["seq"], 2);

  Reply details = Get(group_.Path());
  ASSERT_EQ(details.status, 200);
  EXPECT_EQ(details.body["members"], 3);
  EXPECT_EQ(details.body["epoch"], 7);

  // Moved groups answer 410 with their new home, to members too.
  ASSERT_TRUE(ds_->Freeze(group_.group_id(), 7, "m1").ok());
  ASSERT_TRUE(ds_->DeleteGroup(group_.group_id(),
                               {group_.group_id(), "target.test", 1, Bytes{1}}, "m1")
                  .ok());
  Reply moved = Get(group_.Path("/messages"));
  EXPECT_EQ(moved.status, 410);
  EXPECT_EQ(moved.body["moved_to"], "target.test");
  Reply moved_member = MemberPost(group_, 0, "/messages", group_.ProposalBody(0));
  EXPECT_EQ(moved_member.status, 410);
  EXPECT_EQ(moved_member.body["error"], "moved");
}

TEST_P(DsRoutesTest, CreateNeedsAClientTokenAndABoundedId) {
  const std::string body = group_.CreateBody();
  Reply none = Post("/ds/v1/groups", body);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body["error"], "unauthenticated");
  Reply bad = Post("/ds/v1/groups", body, testing::ClientTokenHeaders("not-a-token"));
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(bad.body["error"], "bad-token");
  // The target's admin token or any other bearer is not a client token.
  Reply other = Post("/ds/v1/groups", body, {{"Authorization", "Basic " + token_}});
  EXPECT_EQ(other.status, 403);

  for (size_t length : {257u, 100'000u}) {
    SyntheticGroup big = SyntheticGroup::Make(kSuite, Bytes(length, 0x41), 1, 1);
    Reply r = Post("/ds/v1/groups", big.CreateBody(), testing::ClientTokenHeaders(token_));
    EXPECT_EQ(r.status, 422) << length;
    EXPECT_EQ(r.body["error"], "group-id-too-long") << length;
  }
  SyntheticGroup at_limit = SyntheticGroup::Make(kSuite, Bytes(256, 0x42), 1, 1);
  EXPECT_EQ(Post("/ds/v1/groups", at_limit.CreateBody(), testing::ClientTokenHeaders(token_))
                .status,
            201);
  EXPECT_EQ(*ds_->CountGroups(), 1u);
}

TEST_P(DsRoutesTest, CreateChecksTheGroupInfoAgainstTheTree) {
  const auto headers = testing::ClientTokenHeaders(token_);
  SyntheticGroup other = SyntheticGroup::Make(kSuite, group_.group_id(), 5, 2);
  // A GroupInfo of another tree.
  Reply mismatch = Post("/ds/v1/groups",
                        mimi::codec::DumpJson(json{
                            {"group_info", ToHex(group_.group_info())},
                            {"ratchet_tree", ToHex(other.ratchet_tree())}}),
                        headers);
  EXPECT_EQ(mismatch.status, 422);
  EXPECT_EQ(mismatch.body["error"], "tree-hash-mismatch");
  // The right tree hash, signed by someone who is not leaf 0 of the tree.
  const Bytes forged = testing::SyntheticGroupInfo(kSuite, group_.group_id(), 5,
                                                   group_.ratchet_tree(), 0, other.keys()[0]);
  Reply unsigned_by_member =
      Post("/ds/v1/groups",
           mimi::codec::DumpJson(
               json{{"group_info", ToHex(forged)},
                    {"ratchet_tree", ToHex(group_.ratchet_tree())}}),
           headers);
  EXPECT_EQ(unsigned_by_member.status, 403);
  EXPECT_EQ(unsigned_by_member.body["error"], "bad-signature");
  EXPECT_EQ(*ds_->CountGroups(), 0u);
}

TEST_P(DsRoutesTest, MemberRequestRefusalsChangeNothing) {
  Create(group_);
  const std::string before = StoredState(group_.group_id());
  const std::string path = group_.Path("/messages");
  const std::string body = group_.ProposalBody(1);
  const auto key1 = group_.keys()[1];
  auto headers = [&](const crypto::SigningKey& key, uint32_t sender, uint64_t epoch,
                     const std::string& signed_body) {
    return testing::MemberHeaders(key, sender, epoch, "POST", path, group_.group_id(),
                                  signed_body);
  };
  ExpectRefused(Post(path, body), 401, "unauthenticated", before);
  httplib::Headers partial = headers(key1, 1, 5, body);
  partial.erase("MIMI-Signature");
  ExpectRefused(Post(path, body, partial), 401, "unauthenticated", before);
  httplib::Headers garbled = headers(key1, 1, 5, body);
  garbled.erase("MIMI-Sender");
  garbled.emplace("MIMI-Sender", "one");
  ExpectRefused(Post(path, body, garbled), 401, "unauthenticated", before);
  ExpectRefused(Post(path, body, headers(key1, 1, 4, body)), 409, "wrong-epoch", before);
  ExpectRefused(Post(path, body, headers(key1, 9, 5, body)), 403, "not-a-member", before);
  auto stranger = crypto::SigningKey::Generate(key1.scheme()).value();
  ExpectRefused(Post(path, body, headers(stranger, 1, 5, body)), 403, "bad-signature",
                before);
  // Signed for another body, another path.
  ExpectRefused(Post(path, body, headers(key1, 1, 5, body + " ")), 403, "bad-signature",
                before);
  ExpectRefused(Post(path, body,
                     testing::MemberHeaders(key1, 1, 5, "POST", group_.Path("/commits"),
                                            group_.group_id(), body)),
                403, "bad-signature", before);
  // A proposal signed by leaf 1 sent under leaf 2's headers.
  ExpectRefused(MemberPost(group_, 2, "/messages", body), 403, "sender-mismatch", before);
  Reply unknown = Post("/ds/v1/groups/abcd/messages", body,
                       testing::MemberHeaders(key1, 1, 5, "POST", "/ds/v1/groups/abcd/messages",
                                              FromHex("abcd").value(), body));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body["error"], "unknown-group");
  EXPECT_EQ(StoredState(group_.group_id()), before);
}

TEST_P(DsRoutesTest, CommitRefusalsChangeNothing) {
  Create(group_);
  const std::string before = StoredState(group_.group_id());
  const PreparedCommit good = group_.PrepareCommit(1);
  auto commit_body = [&](const Bytes& commit, const Bytes& tree,
                         const Bytes& info) {
    return mimi::codec::DumpJson(json{{"commit", ToHex(commit)},
                                      {"ratchet_tree", ToHex(tree)},
                                      {"group_info", ToHex(info)}});
  };
  const Bytes& tree = group_.ratchet_tree();
  const auto& key1 = group_.keys()[1];

  // No GroupInfo at all.
  ExpectRefused(
      MemberPost(group_, 1, "/commits",
                 mimi::codec::DumpJson(json{{"commit", ToHex(good.commit)},
                                            {"ratchet_tree", ToHex(tree)}})),
      400, "malformed", before);
  // A GroupInfo that does not name the submitted tree.
  SyntheticGroup planted = SyntheticGroup::Make(kSuite, group_.group_id(), 6, 1, "mallory");
  ExpectRefused(MemberPost(group_, 1, "/commits",
                           commit_body(good.commit, planted.ratchet_tree(), good.group_info)),
                422, "tree-hash-mismatch", before);
  // The right tree hash, but signed by a key that is not its signer's leaf.
  ExpectRefused(
      MemberPost(group_, 1, "/commits",
                 commit_body(good.commit, tree,
                             testing::SyntheticGroupInfo(kSuite, group_.group_id(), 6, tree, 1,
                                                         planted.keys()[0]))),
      403, "bad-signature", before);
  // Signed by a leaf the new tree does not have.
  ExpectRefused(MemberPost(group_, 1, "/commits",
                           commit_body(good.commit, tree,
                                       testing::SyntheticGroupInfo(
                                           kSuite, group_.group_id(), 6, tree, 7, key1))),
                403, "bad-signature", before);
  // Wrong epoch, wrong group.
  ExpectRefused(MemberPost(group_, 1, "/commits",
                           commit_body(good.commit, tree,
                                       testing::SyntheticGroupInfo(
                                           kSuite, group_.group_id(), 5, tree, 1, key1))),
                422, "bad-group-info", before);
  ExpectRefused(MemberPost(group_, 1, "/commits",
                           commit_body(good.commit, tree,
                                       testing::SyntheticGroupInfo(kSuite, ToBytes("elsewhere"),
                                                                   6, tree, 1, key1))),
                422, "bad-group-info", before);
  // A PublicMessage commit whose MLS signature is not leaf 1's.
  ExpectRefused(MemberPost(group_, 1, "/commits",
                           commit_body(testing::SyntheticSignedCommit(
                                           group_.group_info(), 1, {}, planted.keys()[0]),
                                       tree, good.group_info)),
                403, "bad-signature", before);
  // The placeholder signature of the unsigned synthetic commit.
  ExpectRefused(MemberPost(group_, 1, "/commits",
                           commit_body(testing::SyntheticPublicCommit(group_.group_id(), 5, 1, {}),
                                       tree, good.group_info)),
                403, "bad-signature", before);
  // Leaf 1's commit under leaf 2's headers.
  ExpectRefused(MemberPost(group_, 2, "/commits", good.body), 403, "sender-mismatch",
                before);

  // And the good one goes through.
  Reply ok = MemberPost(group_, 1, "/commits", good.body);
  EXPECT_EQ(ok.status, 200) << mimi::codec::DumpJson(ok.body);
  EXPECT_NE(StoredState(group_.group_id()), before);
}

// Issue 14: a non-member posts a commit with a tree of their own, to then
// sign a MigrationInit with the key they planted. Refused at that first
// step, whatever headers they try, and the group is as it was.
TEST_P(DsRoutesTest, NonMemberCannotPlantATree) {
  Create(group_);
  const std::string before = StoredState(group_.group_id());
  SyntheticGroup mallory =
      SyntheticGroup::Make(kSuite, group_.group_id(), group_.epoch(), 1, "mallory");
  // Mallory's commit claims leaf 0 of the real group; her GroupInfo names
  // her own tree and is signed by her.
  const Bytes commit = testing::SyntheticSignedCommit(group_.group_info(), 0, {},
                                                      mallory.keys()[0]);
  const Bytes info = testing::SyntheticGroupInfo(kSuite, group_.group_id(), group_.epoch() + 1,
                                                 mallory.ratchet_tree(), 0, mallory.keys()[0]);
  const std::string body = mimi::codec::DumpJson(
      json{{"commit", ToHex(commit)},
           {"ratchet_tree", ToHex(mallory.ratchet_tree())},
           {"group_info", ToHex(info)}});
  const std::string path = group_.Path("/commits");
  ExpectRefused(Post(path, body), 401, "unauthenticated", before);
  ExpectRefused(Post(path, body,
                     testing::MemberHeaders(mallory.keys()[0], 0, group_.epoch(), "POST", path,
                                            group_.group_id(), body)),
                403, "bad-signature", before);
  ExpectRefused(Post(path, body,
                     testing::MemberHeaders(mallory.keys()[0], 3, group_.epoch(), "POST", path,
                                            group_.group_id(), body)),
                403, "not-a-member", before);
  // Nor can she squat a fresh id for it without a client token.
  Reply squat = Post("/ds/v1/groups", mallory.CreateBody());
  EXPECT_EQ(squat.status, 401);
  EXPECT_EQ(*ds_->CountGroups(), 1u);
}

TEST_P(DsRoutesTest, MigrationIdOnlyForMembers) {
  Create(group_);
  ASSERT_TRUE(ds_->Freeze(group_.group_id(), 5, "secret-migration-nonce").ok());
  Reply anon = Get(group_.Path());
  ASSERT_EQ(anon.status, 200);
  EXPECT_FALSE(anon.body.contains("migration_id"));
  EXPECT_EQ(anon.body["frozen"], true);
  EXPECT_EQ(mimi::codec::DumpJson(anon.body).find("secret-migration-nonce"),
            std::string::npos);

  Reply member = Get(group_.Path(), group_.Headers(2, "GET", group_.Path(), ""));
  ASSERT_EQ(member.status, 200) << mimi::codec::DumpJson(member.body);
  EXPECT_EQ(member.body["migration_id"], "secret-migration-nonce");
  auto stranger = crypto::SigningKey::Generate(group_.keys()[0].scheme()).value();
  Reply forged = Get(group_.Path(), testing::MemberHeaders(stranger, 2, 5, "GET",
                                                           group_.Path(), group_.group_id(), ""));
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(mimi::codec::DumpJson(forged.body).find("secret-migration-nonce"),
            std::string::npos);

  // A member's write to a frozen group is refused without naming the nonce.
  Reply frozen = MemberPost(group_, 1, "/messages", group_.ProposalBody(1));
  EXPECT_EQ(frozen.status, 409);
  EXPECT_EQ(frozen.body["error"], "group-frozen");
  EXPECT_EQ(mimi::codec::DumpJson(frozen.body).find("secret-migration-nonce"),
            std::string::npos);
}

TEST_P(DsRoutesTest, BadRequestsGetStableCodes) {
  const auto headers = testing::ClientTokenHeaders(token_);
  EXPECT_EQ(Post("/ds/v1/groups", "[]", headers).body["error"], "malformed");
  EXPECT_EQ(Post("/ds/v1/groups",
                 mimi::codec::DumpJson(json{{"group_info", "zz"}}), headers)
                .body["error"],
            "malformed");
  EXPECT_EQ(Post("/ds/v1/groups",
                 mimi::codec::DumpJson(
                     json{{"group_info", "00"}, {"ratchet_tree", "00"}}),
                 headers)
                .status,
            400);
  EXPECT_EQ(Get("/ds/v1/groups/abcd").body["error"], "unknown-group");
  EXPECT_EQ(Get("/ds/v1/groups/abcd/messages?after=x").body["error"], "malformed");
  EXPECT_EQ(Post("/ds/v1/groups", "{not json", headers).status, 400);
  // The optional group id hint, when not a hex string: 400, not the
  // catch-all's 500.
  Reply bad_id = Post("/ds/v1/groups",
                      mimi::codec::DumpJson(json{{"group_info", "00"},
                                                 {"ratchet_tree", "00"},
                                                 {"group_id", 5}}),
                      headers);
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(bad_id.body["error"], "malformed");
  EXPECT_EQ(*ds_->CountGroups(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, DsRoutesTest,
                         ::testing::ValuesIn(testing::kAllStoreBackends),
                         testing::StoreBackendName);

}  // namespace
}  // namespace mimi::daemon
