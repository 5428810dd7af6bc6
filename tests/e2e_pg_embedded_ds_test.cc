// A migration between two in-process daemons whose embedded DS keeps its
// tables on PostgreSQL (store.backend = "postgresql", ds.mode = "embedded";
// docs/operations.md, "Choosing a store backend"): the source on its own
// schema of the test server, the target on SQLite or on a schema of its
// own. The group is created through the source's member API, moved, and
// then: the source row purged, the group gone from the source DS with a
// tombstone naming the target (answered "moved" over HTTP), the target DS
// holding it one epoch on with the migration commit once.
//
// Skipped without MIMI_TEST_PG_URL (testing/store_backend.h).
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "crypto/signing_key.h"
#include "embedded_ds/embedded_ds.h"
#include "mimi_portability/messages.h"
#include "store/pg/pg_store.h"
#include "testing/ds_member.h"
#include "testing/store_backend.h"
#include "testing/synthetic_mls.h"
#include "testing/two_daemons.h"

namespace mimi {
namespace {

using nlohmann::json;
using testing::StoreBackend;

constexpr char kPgDsType[] = "application/mimi-portability";
constexpr uint64_t kPgDsEpoch = 5;
constexpr uint16_t kPgDsSuite = 1;

httplib::Result PgDsPost(httplib::Client& c, const std::string& path,
                         const Bytes& body,
                         const httplib::Headers& headers = {}) {
  return c.Post(path.c_str(), headers,
                reinterpret_cast<const char*>(body.data()), body.size(),
                kPgDsType);
}

// The parameter is the target's backend; the source is on PostgreSQL.
class PgEmbeddedDsE2eTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (!testing::TestPgUrl()) GTEST_SKIP() << testing::kNoTestPgMessage;
    for (const char* domain : {"source.test", "target.test"}) {
      if (domain == std::string("target.test") &&
          GetParam() == StoreBackend::kSqlite) {
        continue;
      }
      auto schema = testing::PgTestSchema::Create(*testing::TestPgUrl());
      ASSERT_TRUE(schema.ok()) << schema.status().ToString();
      schemas_[domain] = std::move(schema).value();
    }
    daemons_ = std::make_unique<testing::TwoDaemons>(
        SystemClock::Get(), [this](daemon::Config& c) {
          auto it = schemas_.find(c.domain);
          if (it == schemas_.end()) return;
          c.store.backend = "postgresql";
          c.store.url = it->second->url();
          c.store.max_connections = 4;
        });
    ASSERT_TRUE(daemons_->ok()) << daemons_->error();
  }

  // The embedded DS of `domain` as a second instance would see it.
  std::unique_ptr<embedded_ds::EmbeddedDs> Ds(const std::string& domain) {
    if (!schemas_.contains(domain)) {
      return domain == "source.test" ? daemons_->SourceDs()
                                     : daemons_->TargetDs();
    }
    store::pg::PgPoolOptions o;
    o.connect.url = schemas_.at(domain)->url();
    o.max_connections = 1;
    auto pool = store::pg::PgPool::Open(o);
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    if (!pool.ok()) return nullptr;
    auto ds = embedded_ds::EmbeddedDs::Open(*pool, SystemClock::Get());
    EXPECT_TRUE(ds.ok()) << ds.status().ToString();
    return ds.ok() ? std::move(ds).value() : nullptr;
  }

  std::unique_ptr<store::Store> SourceStore() {
    store::pg::PgPoolOptions o;
    o.connect.url = schemas_.at("source.test")->url();
    o.max_connections = 1;
    auto s = store::pg::PgStore::Open(o, SystemClock::Get());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Declared before the daemons, which stop before the schemas are dropped.
  std::map<std::string, std::unique_ptr<testing::PgTestSchema>> schemas_;
  std::unique_ptr<testing::TwoDaemons> daemons_;
};

TEST_P(PgEmbeddedDsE2eTest, MigratesAGroupKeptOnPostgresql) {
  auto source = daemons_->SourceClient();
  auto target = daemons_->TargetClient();
  auto cs = crypto::LookupCipherSuite(kPgDsSuite);
  ASSERT_TRUE(cs.ok());
  std::vector<crypto::SigningKey> keys;
  std::vector<testing::SyntheticMember> members;
  for (const char* name : {"alice", "bob", "carol"}) {
    keys.push_back(crypto::SigningKey::Generate(cs->signature_scheme).value());
    members.push_back({name, keys.back().public_key().encoded()});
  }
  const Bytes group_id = ToBytes("pg-embedded-group");
  const Bytes tree = testing::SyntheticRatchetTree(kPgDsSuite, members);
  const Bytes info = testing::SyntheticGroupInfo(kPgDsSuite, group_id,
                                                 kPgDsEpoch, tree, 0, keys[0]);
  auto created = source->Post(
      "/ds/v1/groups",
      testing::ClientTokenHeaders(daemons_->source_client_token()),
      codec::DumpJson(json{{"group_info", ToHex(info)},
                           {"ratchet_tree", ToHex(tree)}}),
      "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  // The group is in the database, not in a file beside the daemon.
  auto before = Ds("source.test")->LookupGroup(group_id);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->epoch, kPgDsEpoch);

  MigrationRequest request{ToBytes("source.test"), ToBytes("target.test"),
                           group_id, kPgDsEpoch};
  auto r = PgDsPost(*target, "/mimi-portability/v1/request", *Encode(request),
                    {{"MIMI-Cipher-Suite", std::to_string(kPgDsSuite)},
                     {"Authorization", "Bearer " + daemons_->client_token()}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto response = Decode<MigrationResponse>(ToBytes(r->body));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  const std::string id = ToHex(response->nonce);
  const Bytes commit = testing::SyntheticPublicCommit(
      group_id, kPgDsEpoch, 1,
      *Encode(MigrationCommitAAD{ToBytes("target.test")}));
  MigrationInit init{*response, {}};
  ASSERT_TRUE(crypto::SignMessage(keys[1], &init).ok());
  auto confirmed = PgDsPost(*source, "/mimi-portability/v1/init",
                            *Encode(MigrationInitRequest{init, 1, commit}));
  ASSERT_TRUE(confirmed);
  ASSERT_EQ(confirmed->status, 200) << confirmed->body;

  // The source purges after answering, on its own time.
  auto store = SourceStore();
  ASSERT_NE(store, nullptr);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto row = store->Get(id, store::Role::kSource);
  while ((!row.ok() || row->state != store::MigrationState::kPurged) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    row = store->Get(id, store::Role::kSource);
  }
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->state, store::MigrationState::kPurged);

  auto source_ds = Ds("source.test");
  EXPECT_EQ(source_ds->LookupGroup(group_id).status().reason(), "moved");
  auto tombstone = source_ds->LookupTombstone(group_id);
  ASSERT_TRUE(tombstone.ok()) << tombstone.status().ToString();
  EXPECT_EQ(tombstone->moved_to, "target.test");
  auto moved = source->Get(
      ("/ds/v1/groups/" + ToHex(group_id) + "/messages").c_str());
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 410) << moved->body;

  auto target_ds = Ds("target.test");
  auto details = target_ds->Details(group_id);
  ASSERT_TRUE(details.ok()) << details.status().ToString();
  EXPECT_EQ(details->summary.epoch, kPgDsEpoch + 1);
  auto messages = target_ds->FetchMessages(group_id, 0, 10);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ(messages->front().message, commit);
  EXPECT_EQ(messages->front().seq, 1u);
}

INSTANTIATE_TEST_SUITE_P(TargetBackends, PgEmbeddedDsE2eTest,
                         ::testing::ValuesIn(testing::kAllStoreBackends),
                         testing::StoreBackendName);

}  // namespace
}  // namespace mimi
