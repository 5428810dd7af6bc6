#include "embedded_ds/embedded_ds.h"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <fstream>
#include <latch>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "codec/json_text.h"
#include "mimi_portability/group_state.h"
#include "mls/ratchet_tree.h"
#include "store/pg/pg_store.h"
#include "store/sqlite_store.h"
#include "testing/ds_member.h"
#include "testing/read_file.h"
#include "testing/store_backend.h"
#include "testing/synthetic_mls.h"
#include "testing/temp_dir.h"

namespace mimi::embedded_ds {
namespace {

using ::mimi::testing::kAllStoreBackends;
using ::mimi::testing::PgTestSchema;
using ::mimi::testing::ReadTextFile;
using ::mimi::testing::StoreBackend;
using ::mimi::testing::StoreBackendName;

Bytes Fixture(const std::string& name) {
  return FromHex(ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/") + name))
      .value();
}

// ts-mls writes a bare GroupInfo; members hand it to a DS as an MLSMessage.
Bytes GroupInfoMessage(int suite) {
  return FromHex("00010004" +
                 ReadTextFile(
                     std::string(MIMI_TEST_DATA_DIR "/mls/group_info_suite") +
                     std::to_string(suite) + ".hex"))
      .value();
}

// Runs on both backends (testing/store_backend.h): each DS of a test is a
// database of its own, a SQLite file or a PostgreSQL schema, whose schema
// the store brings up to date first, as the daemon does.
class EmbeddedDsTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  std::unique_ptr<EmbeddedDs> OpenDs(const std::string& name) {
    if (GetParam() == StoreBackend::kSqlite) {
      const std::string path = dir_ / name;
      auto store = store::SqliteStore::Open(path, clock_);  // the schema
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      auto ds = EmbeddedDs::Open(path, clock_);
      EXPECT_TRUE(ds.ok()) << ds.status().ToString();
      return ds.ok() ? std::move(ds).value() : nullptr;
    }
    auto pool = PgPool(name);
    if (!pool) return nullptr;
    auto ds = EmbeddedDs::Open(pool, clock_);
    EXPECT_TRUE(ds.ok()) << ds.status().ToString();
    return ds.ok() ? std::move(ds).value() : nullptr;
  }

  // PostgreSQL: the pool of a store on the schema for `name`, created (and
  // its tables with it) on first use; another call for the same name opens
  // another pool on it, as another instance would.
  std::shared_ptr<store::pg::PgPool> PgPool(const std::string& name) {
    auto& schema = pg_schemas_[name];
    if (schema == nullptr) {
      auto created = PgTestSchema::Create(*testing::TestPgUrl());
      EXPECT_TRUE(created.ok()) << created.status().ToString();
      if (!created.ok()) return nullptr;
      schema = std::move(created).value();
    }
    store::pg::PgPoolOptions options;
    options.connect.url = schema->url();
    auto store = store::pg::PgStore::Open(options, clock_);  // the schema
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? (*store)->pool() : nullptr;
  }

  // Runs `sql` on the database of `name` with the engine's own client.
  void ExecRaw(const std::string& name, const std::string& sql) {
    if (GetParam() == StoreBackend::kSqlite) {
      SQLite::Database raw(dir_ / name, SQLite::OPEN_READWRITE);
      raw.exec(sql);
      return;
    }
    auto c = store::pg::PgConnection::Open({pg_schemas_.at(name)->url(), "", 10});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto r = (*c)->Exec("test", sql);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  int64_t CountRaw(const std::string& name, const std::string& sql) {
    if (GetParam() == StoreBackend::kSqlite) {
      SQLite::Database raw(dir_ / name, SQLite::OPEN_READONLY);
      return raw.execAndGet(sql).getInt64();
    }
    auto c = store::pg::PgConnection::Open({pg_schemas_.at(name)->url(), "", 10});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return -1;
    auto r = (*c)->Exec("test", sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::stoll(r->Text(0, 0)) : -1;
  }

  void SetUp() override {
    if (GetParam() == StoreBackend::kPostgresql && !testing::TestPgUrl()) {
      GTEST_SKIP() << testing::kNoTestPgMessage;
    }
    manifest_ = mimi::codec::ParseJson(
        ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/manifest.json")));
    group_id_ = FromHex(manifest_["suites"][0]["group_id"].get<std::string>()).value();
    tree_ = Fixture("ratchet_tree_suite1.hex");
    commit_ = Fixture("commit_public_suite1.hex");
    // Bob's commit (leaf 1) leads to a tree of members whose keys the test
    // holds, so that it can sign the GroupInfo of epoch 2.
    next_ = testing::SyntheticGroup::Make(1, group_id_, 2, 2);
    next_tree_ = next_.ratchet_tree();
    next_info_ = next_.group_info();
    ds_ = OpenDs("source.db");
    ASSERT_NE(ds_, nullptr);
    auto created = ds_->CreateGroup(GroupInfoMessage(1), tree_);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_EQ(created->epoch, 1u);
    EXPECT_EQ(created->ciphersuite, 1);
  }

  FakeClock clock_;
  testing::TempDir dir_;
  // Before the DSs, which close their pools before the schemas are dropped.
  std::map<std::string, std::unique_ptr<PgTestSchema>> pg_schemas_;
  nlohmann::json manifest_;
  Bytes group_id_, tree_, commit_;
  testing::SyntheticGroup next_;
  Bytes next_tree_, next_info_;
  std::unique_ptr<EmbeddedDs> ds_;
};

TEST_P(EmbeddedDsTest, CreatingTwiceIsRefused) {
  auto again = ds_->CreateGroup(GroupInfoMessage(1), tree_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().reason(), "group-exists");
  EXPECT_EQ(*ds_->CountGroups(), 1u);
}

TEST_P(EmbeddedDsTest, BadInputsChangeNothing) {
  EXPECT_EQ(ds_->CreateGroup(Fixture("group_info_suite2.hex"), tree_).status().code(),
            StatusCode::kInvalidArgument);  // bare: reads as wire format 2
  EXPECT_FALSE(ds_->CreateGroup(GroupInfoMessage(2), Bytes{0x01}).ok());
  EXPECT_EQ(ds_->SubmitCommit(group_id_, 1, 1, Fixture("application_suite1.hex"), next_tree_,
                              next_info_)
                .status()
                .reason(),
            "not-a-commit");
  EXPECT_EQ(ds_->SubmitMessage(group_id_, 1, 1, commit_).status().reason(),
            "commit-needs-tree");
  EXPECT_EQ(ds_->SubmitCommit(group_id_, 1, 1, commit_, Bytes{0x00}, next_info_).status().code(),
            StatusCode::kMalformed);
  EXPECT_EQ(ds_->SubmitMessage(Bytes{1, 2}, 1, 1, Fixture("application_suite1.hex"))
                .status()
                .reason(),
            "wrong-group");
  auto details = ds_->Details(group_id_);
  ASSERT_TRUE(details.ok());
  EXPECT_EQ(details->summary.epoch, 1u);
  EXPECT_EQ(details->last_seq, 0u);
  EXPECT_EQ(*ds_->CountGroups(), 1u);
}

// The DS checks trees node by node instead of through mls::DecodeRatchetTree
// (whose per-node objects cost hundreds of MiB for a large group): it must
// accept exactly the trees that accepts, and count the same members.
TEST_P(EmbeddedDsTest, TreeCheckAgreesWithTheMlsDecoder) {
  std::vector<Bytes> trees;
  for (size_t n = 0; n < tree_.size(); n += 7) {
    trees.emplace_back(tree_.begin(), tree_.begin() + static_cast<long>(n));
  }
  for (size_t i = 0; i < tree_.size(); i += 3) {
    for (uint8_t v : {uint8_t{0}, uint8_t{1}, uint8_t{2}, uint8_t{0xff}}) {
      Bytes t = tree_;
      t[i] = v;
      trees.push_back(std::move(t));
    }
  }
  Bytes trailing = tree_;
  trailing.push_back(0);
  trees.push_back(trailing);
  // The group exists already, and the tree is checked first: a tree that
  // decodes meets "group-exists" if it is the GroupInfo's, else
  // "tree-hash-mismatch"; one that does not decode fails with its own error.
  int accepted = 0;
  for (const Bytes& t : trees) {
    auto decoded = mls::DecodeRatchetTree(t);
    const bool want = decoded.ok() && decoded->leaf_count() > 0;
    auto created = ds_->CreateGroup(GroupInfoMessage(1), t);
    ASSERT_FALSE(created.ok());
    const bool got = created.status().reason() == "group-exists" ||
                     created.status().reason() == "tree-hash-mismatch";
    EXPECT_EQ(got, want) << ToHex(t) << ": " << created.status().ToString();
    accepted += got;
  }
  auto decoded = mls::DecodeRatchetTree(tree_);
  ASSERT_TRUE(decoded.ok());
  uint32_t members = 0;
  for (uint32_t i = 0; i < decoded->leaf_count(); ++i) {
    members += decoded->Leaf(i) != nullptr;
  }
  EXPECT_EQ(ds_->Details(group_id_)->member_count, members);
  EXPECT_GT(accepted, 0);
}

TEST_P(EmbeddedDsTest, CommitAdvancesEpochAndMessagesFanOutInOrder) {
  const Bytes app = Fixture("application_suite1.hex");
  const Bytes proposal = Fixture("proposal_suite1.hex");
  EXPECT_EQ(*ds_->SubmitMessage(group_id_, 1, 1, app), 1u);
  // ts-mls's signatures verify under the GroupContext of its GroupInfo.
  EXPECT_EQ(*ds_->SubmitMessage(group_id_, 1, 1, proposal), 2u);
  EXPECT_EQ(*ds_->SubmitCommit(group_id_, 1, 1, commit_, next_tree_, next_info_), 3u);
  EXPECT_EQ(ds_->LookupGroup(group_id_)->epoch, 2u);

  // The same commit again is stale now, and so is an epoch-1 message.
  auto stale = ds_->SubmitCommit(group_id_, 1, 2, commit_, next_tree_, next_info_);
  EXPECT_EQ(stale.status().reason(), "epoch-mismatch");
  EXPECT_EQ(ds_->SubmitMessage(group_id_, 1, 2, app).status().reason(), "epoch-mismatch");
  // A member who authenticated at the epoch before is told so.
  EXPECT_EQ(ds_->SubmitMessage(group_id_, 1, 1, app).status().reason(), "wrong-epoch");

  auto all = ds_->FetchMessages(group_id_, 0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], (StoredMessage{1, app}));
  EXPECT_EQ((*all)[1], (StoredMessage{2, proposal}));
  EXPECT_EQ((*all)[2], (StoredMessage{3, commit_}));
  auto tail = ds_->FetchMessages(group_id_, 2, 100);
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].seq, 3u);
  EXPECT_EQ(ds_->FetchMessages(group_id_, 0, 1)->size(), 1u);
}

// The tree and GroupInfo live apart from the group's mutable columns
// (docs/performance.md, "Hot rows"): a message, a freeze, an unfreeze and a
// fan-out change ds_groups only; a commit, which replaces the tree, is the
// one write to ds_group_trees. Counted by a trigger on that table.
TEST_P(EmbeddedDsTest, OnlyACommitRewritesTheTree) {
  if (GetParam() == StoreBackend::kSqlite) {
    ExecRaw("source.db",
            "CREATE TABLE tree_writes (n INTEGER);"
            "CREATE TRIGGER count_tree_writes AFTER UPDATE ON ds_group_trees "
            "BEGIN INSERT INTO tree_writes VALUES (1); END");
  } else {
    ExecRaw("source.db",
            "CREATE TABLE tree_writes (n INTEGER);"
            "CREATE FUNCTION count_tree_write() RETURNS trigger AS $$ BEGIN "
            "INSERT INTO tree_writes VALUES (1); RETURN NULL; END $$ "
            "LANGUAGE plpgsql;"
            "CREATE TRIGGER count_tree_writes AFTER UPDATE ON ds_group_trees "
            "FOR EACH ROW EXECUTE FUNCTION count_tree_write()");
  }
  auto tree_writes = [&] {
    return CountRaw("source.db", "SELECT COUNT(*) FROM tree_writes");
  };
  ASSERT_TRUE(ds_->SubmitMessage(group_id_, 1, 1, Fixture("application_suite1.hex")).ok());
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, "m1").ok());
  ASSERT_TRUE(ds_->Unfreeze(group_id_, "m1").ok());
  EXPECT_EQ(tree_writes(), 0);
  ASSERT_TRUE(ds_->SubmitCommit(group_id_, 1, 1, commit_, next_tree_, next_info_).ok());
  EXPECT_EQ(tree_writes(), 1);
  ASSERT_TRUE(ds_->Freeze(group_id_, 2, "m2").ok());
  ASSERT_TRUE(ds_->FanOutCommit(group_id_, commit_, "m2").ok());
  EXPECT_EQ(tree_writes(), 1);

  auto details = ds_->Details(group_id_);
  ASSERT_TRUE(details.ok()) << details.status().ToString();
  EXPECT_EQ(details->tree_epoch, 2u);
  EXPECT_EQ(details->summary.epoch, 2u);
  EXPECT_TRUE(details->summary.frozen);
  EXPECT_EQ(details->last_seq, 3u);
  EXPECT_EQ(ds_->MemberSignatureKey(group_id_, 1).ok(), true);
}

TEST_P(EmbeddedDsTest, MemberKeysComeFromTheTree) {
  for (const auto& member : manifest_["suites"][0]["members"]) {
    auto key = ds_->MemberSignatureKey(group_id_, member["leaf_index"].get<uint32_t>());
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(ToHex(*key), member["signature_public_key"]);
  }
  EXPECT_EQ(ds_->MemberSignatureKey(group_id_, 7).status().reason(), "unknown-leaf");
  EXPECT_EQ(ds_->MemberSignatureKey(Bytes{9}, 0).status().reason(), "unknown-group");
}

TEST_P(EmbeddedDsTest, FreezeIsExclusiveIdempotentAndChecksTheEpoch) {
  EXPECT_EQ(ds_->Freeze(group_id_, 2, "m1").reason(), "epoch-mismatch");
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, "m1").ok());
  EXPECT_TRUE(ds_->Freeze(group_id_, 1, "m1").ok());
  EXPECT_EQ(ds_->Freeze(group_id_, 1, "m2").reason(), "group-frozen");
  EXPECT_EQ(ds_->SubmitCommit(group_id_, 1, 1, commit_, next_tree_, next_info_)
                .status()
                .reason(),
            "group-frozen");
  EXPECT_EQ(ds_->SubmitMessage(group_id_, 1, 1, Fixture("application_suite1.hex"))
                .status()
                .reason(),
            "group-frozen");
  auto summary = ds_->LookupGroup(group_id_);
  EXPECT_TRUE(summary->frozen);
  EXPECT_EQ(summary->migration_id, "m1");
  // Another migration cannot lift it; its own can, and commits flow again.
  EXPECT_TRUE(ds_->Unfreeze(group_id_, "m2").ok());
  EXPECT_TRUE(ds_->LookupGroup(group_id_)->frozen);
  EXPECT_TRUE(ds_->Unfreeze(group_id_, "m1").ok());
  EXPECT_TRUE(ds_->Unfreeze(group_id_, "m1").ok());
  EXPECT_TRUE(ds_->SubmitCommit(group_id_, 1, 1, commit_, next_tree_, next_info_).ok());
}

TEST_P(EmbeddedDsTest, MigrationBetweenTwoDsInstances) {
  const Bytes app = Fixture("application_suite1.hex");
  ASSERT_TRUE(ds_->SubmitMessage(group_id_, 1, 1, app).ok());
  EXPECT_EQ(ds_->ExportGroupState(group_id_, commit_, "m1").status().reason(),
            "not-frozen");
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, "m1").ok());
  auto exported = ds_->ExportGroupState(group_id_, commit_, "m1");
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto state = DecodeGroupState(*exported);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->epoch, 1u);
  EXPECT_EQ(state->ratchet_tree, tree_);
  EXPECT_EQ(state->migration_commit, commit_);
  ASSERT_EQ(state->pending_messages.size(), 1u);

  std::unique_ptr<EmbeddedDs> target = OpenDs("target.db");
  ASSERT_NE(target, nullptr);
  ASSERT_TRUE(target->ImportGroupState(*exported, "m1").ok());
  EXPECT_TRUE(target->ImportGroupState(*exported, "m1").ok());  // idempotent
  EXPECT_EQ(target->ImportGroupState(*exported, "m9").reason(), "group-exists");
  auto details = target->Details(group_id_);
  ASSERT_TRUE(details.ok());
  EXPECT_EQ(details->summary.epoch, 2u);  // where members are after the commit
  EXPECT_EQ(details->tree_epoch, 1u);
  EXPECT_EQ(details->member_count, 3u);
  EXPECT_EQ(details->summary.migration_id, "m1");
  auto at_target = target->FetchMessages(group_id_, 0, 100);
  ASSERT_EQ(at_target->size(), 2u);
  EXPECT_EQ((*at_target)[0].message, app);
  EXPECT_EQ((*at_target)[1].message, commit_);

  // Fan-out happens once however often it is asked for, and exporting again
  // afterwards yields the same bytes (the content is resent byte-identical).
  ASSERT_TRUE(ds_->FanOutCommit(group_id_, commit_, "m1").ok());
  ASSERT_TRUE(ds_->FanOutCommit(group_id_, commit_, "m1").ok());
  auto at_source = ds_->FetchMessages(group_id_, 0, 100);
  ASSERT_EQ(at_source->size(), 2u);
  EXPECT_EQ((*at_source)[1].message, commit_);
  EXPECT_EQ(*ds_->ExportGroupState(group_id_, commit_, "m1"), *exported);

  Tombstone t{group_id_, "target.test", clock_.NowMillis(), Bytes{0xc0, 0xff}};
  EXPECT_EQ(ds_->DeleteGroup(group_id_, t, "m2").reason(), "not-frozen");
  ASSERT_TRUE(ds_->DeleteGroup(group_id_, t, "m1").ok());
  EXPECT_TRUE(ds_->DeleteGroup(group_id_, t, "m1").ok());
  EXPECT_TRUE(ds_->FanOutCommit(group_id_, commit_, "m1").ok());  // late repeat
  auto moved = ds_->LookupGroup(group_id_);
  EXPECT_EQ(moved.status().reason(), "moved");
  EXPECT_NE(moved.status().detail().find("target.test"), std::string::npos);
  EXPECT_EQ(ds_->FetchMessages(group_id_, 0, 10).status().reason(), "moved");
  EXPECT_EQ(ds_->CreateGroup(GroupInfoMessage(1), tree_).status().reason(), "moved");
  auto tomb = ds_->LookupTombstone(group_id_);
  ASSERT_TRUE(tomb.ok());
  EXPECT_EQ(tomb->moved_to, "target.test");
  EXPECT_EQ(tomb->confirmation, (Bytes{0xc0, 0xff}));
  EXPECT_EQ(*ds_->CountGroups(), 0u);

  // The group can come back: importing it lifts the tombstone.
  ASSERT_TRUE(target->Freeze(group_id_, 2, "m3").ok());
  auto back = target->ExportGroupState(group_id_, commit_, "m3");
  ASSERT_TRUE(back.ok());
  // Its commit is at epoch 1, not the group's epoch 2 at the target.
  EXPECT_EQ(ds_->ImportGroupState(*back, "m3").code(), StatusCode::kInvalidArgument);
}

// A member's cursor at the source stays valid at the target: the import keeps
// the source's seqs and gives the migration commit the seq the source's
// fan-out gives it.
TEST_P(EmbeddedDsTest, TheMigrationCommitHasTheSameSeqOnBothDss) {
  const Bytes app = Fixture("application_suite1.hex");
  const Bytes proposal = Fixture("proposal_suite1.hex");
  ASSERT_EQ(*ds_->SubmitMessage(group_id_, 1, 1, app), 1u);
  ASSERT_EQ(*ds_->SubmitMessage(group_id_, 1, 1, proposal), 2u);
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, "m1").ok());
  auto exported = ds_->ExportGroupState(group_id_, commit_, "m1");
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto state = DecodeGroupState(*exported);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->version, 2);
  EXPECT_EQ(state->last_seq, 2u);

  std::unique_ptr<EmbeddedDs> target = OpenDs("target.db");
  ASSERT_TRUE(target->ImportGroupState(*exported, "m1").ok());
  ASSERT_TRUE(ds_->FanOutCommit(group_id_, commit_, "m1").ok());
  auto at_source = ds_->FetchMessages(group_id_, 2, 100);
  auto at_target = target->FetchMessages(group_id_, 2, 100);
  ASSERT_TRUE(at_source.ok() && at_target.ok());
  ASSERT_EQ(at_source->size(), 1u);
  ASSERT_EQ(at_target->size(), 1u);
  EXPECT_EQ((*at_source)[0], (StoredMessage{3, commit_}));
  EXPECT_EQ((*at_target)[0], (StoredMessage{3, commit_}));
  EXPECT_EQ(target->Details(group_id_)->last_seq, 3u);
}

// The source had numbered past the current epoch's messages (earlier
// epochs' messages and commits took seqs 1..4, the last one 9): the target
// continues there instead of numbering from 1 again.
TEST_P(EmbeddedDsTest, ImportContinuesTheSourceNumbering) {
  const Bytes app = Fixture("application_suite1.hex");
  const Bytes proposal = Fixture("proposal_suite1.hex");
  GroupState s;
  s.cipher_suite = 1;
  s.group_id = group_id_;
  s.epoch = 1;
  s.ratchet_tree = tree_;
  s.migration_commit = commit_;
  s.pending_messages = {{5, app}, {6, proposal}};
  s.last_seq = 9;
  std::unique_ptr<EmbeddedDs> target = OpenDs("target.db");
  ASSERT_TRUE(target->ImportGroupState(*Encode(s), "m1").ok());
  auto all = target->FetchMessages(group_id_, 0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], (StoredMessage{5, app}));
  EXPECT_EQ((*all)[1], (StoredMessage{6, proposal}));
  EXPECT_EQ((*all)[2], (StoredMessage{10, commit_}));
  // A member that had fetched up to 9 at the source gets the commit.
  auto after_cursor = target->FetchMessages(group_id_, 9, 100);
  ASSERT_EQ(after_cursor->size(), 1u);
  EXPECT_EQ((*after_cursor)[0].seq, 10u);
  EXPECT_EQ(target->Details(group_id_)->last_seq, 10u);

  // A version-1 state (no last_seq) continues after its last pending message.
  std::unique_ptr<EmbeddedDs> old_target = OpenDs("old_target.db");
  s.version = 1;
  s.last_seq = 6;
  auto v1 = Encode(s);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  ASSERT_TRUE(old_target->ImportGroupState(*v1, "m1").ok());
  auto v1_all = old_target->FetchMessages(group_id_, 0, 100);
  ASSERT_EQ(v1_all->size(), 3u);
  EXPECT_EQ((*v1_all)[0].seq, 5u);
  EXPECT_EQ((*v1_all)[2], (StoredMessage{7, commit_}));
}

TEST_P(EmbeddedDsTest, ImportRefusesASeqItCannotContinue) {
  GroupState s;
  s.cipher_suite = 1;
  s.group_id = group_id_;
  s.epoch = 1;
  s.ratchet_tree = tree_;
  s.migration_commit = commit_;
  s.last_seq = ~uint64_t{0};  // the commit's seq would wrap to 0
  std::unique_ptr<EmbeddedDs> target = OpenDs("target.db");
  const Status refused = target->ImportGroupState(*Encode(s), "m1");
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.detail().find("GroupState.last_seq"), std::string::npos);
  EXPECT_EQ(*target->CountGroups(), 0u);
}

// Right after an import the DS holds the source's GroupInfo, of the epoch
// before the migration commit: it has no GroupContext of the current epoch
// to check a PublicMessage's signature with, and relies on the request
// signature (checked by the routes) until a commit brings a GroupInfo.
// That commit's GroupInfo is checked all the same, and from then on
// PublicMessages are verified again.
TEST_P(EmbeddedDsTest, ImportedGroupChecksFromItsFirstCommitOn) {
  ASSERT_TRUE(ds_->Freeze(group_id_, 1, "m1").ok());
  auto exported = ds_->ExportGroupState(group_id_, commit_, "m1");
  ASSERT_TRUE(exported.ok());
  std::unique_ptr<EmbeddedDs> target = OpenDs("target.db");
  ASSERT_TRUE(target->ImportGroupState(*exported, "m1").ok());

  // At epoch 2 the members' tree is next_ (leaves 0 and 1 of keys we hold).
  const Bytes placeholder_signed = testing::SyntheticPublicCommit(group_id_, 2, 1, {});
  const Bytes info3 =
      testing::SyntheticGroupInfo(1, group_id_, 3, next_tree_, 1, next_.keys()[1]);
  EXPECT_EQ(target->SubmitCommit(group_id_, 1, 2, placeholder_signed, next_tree_,
                                 testing::SyntheticGroupInfo(1, group_id_, 3, next_tree_, 1,
                                                             next_.keys()[0]))
                .status()
                .reason(),
            "bad-signature");  // the GroupInfo still has to be its signer's
  auto accepted = target->SubmitCommit(group_id_, 1, 2, placeholder_signed, next_tree_, info3);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  // Epoch 3: the stored GroupInfo is this epoch's, so signatures count again.
  EXPECT_EQ(target->SubmitCommit(group_id_, 1, 3, testing::SyntheticPublicCommit(group_id_, 3, 1, {}),
                                 next_tree_,
                                 testing::SyntheticGroupInfo(1, group_id_, 4, next_tree_, 1,
                                                             next_.keys()[1]))
                .status()
                .reason(),
            "bad-signature");
  const Bytes signed_commit = testing::SyntheticSignedCommit(info3, 1, {}, next_.keys()[1]);
  EXPECT_TRUE(target
                  ->SubmitCommit(group_id_, 1, 3, signed_commit, next_tree_,
                                 testing::SyntheticGroupInfo(1, group_id_, 4, next_tree_, 1,
                                                             next_.keys()[1]))
                  .ok());
  EXPECT_EQ(target->LookupGroup(group_id_)->epoch, 4u);
}

TEST_P(EmbeddedDsTest, ImportRefusesStateThatDoesNotHoldTogether) {
  std::unique_ptr<EmbeddedDs> target = OpenDs("target.db");
  GroupState s;
  s.cipher_suite = 1;
  s.group_id = group_id_;
  s.epoch = 1;
  s.ratchet_tree = tree_;
  s.migration_commit = Fixture("application_suite1.hex");
  EXPECT_EQ(target->ImportGroupState(*Encode(s), "m1").code(),
            StatusCode::kInvalidArgument);
  s.migration_commit = commit_;
  s.ratchet_tree = Bytes{0x00};
  EXPECT_EQ(target->ImportGroupState(*Encode(s), "m1").code(), StatusCode::kMalformed);
  EXPECT_EQ(target->ImportGroupState(Bytes{0x00, 0x01}, "m1").code(),
            StatusCode::kMalformed);
  EXPECT_EQ(*target->CountGroups(), 0u);
}

// Two DS objects on one database (two instances behind a load balancer):
// members racing to commit at the same epoch through either get exactly
// one winner per epoch, and every accepted message and commit gets the next
// seq, with no gap and no seq given twice.
TEST_P(EmbeddedDsTest, RacingCommitsAtOneEpochHaveOneWinnerAndGapFreeSeqs) {
  std::unique_ptr<EmbeddedDs> other = OpenDs("source.db");
  ASSERT_NE(other, nullptr);
  constexpr int kMembers = 4;
  constexpr int kRounds = 6;
  testing::SyntheticGroup g =
      testing::SyntheticGroup::Make(1, ToBytes("race-group"), 1, kMembers);
  ASSERT_TRUE(other->CreateGroup(g.group_info(), g.ratchet_tree()).ok());
  EmbeddedDs* instances[] = {ds_.get(), other.get()};
  int accepted_messages = 0;
  for (int round = 0; round < kRounds; ++round) {
    const uint64_t epoch = g.epoch();
    std::vector<testing::PreparedCommit> commits;
    for (int m = 0; m < kMembers; ++m) {
      commits.push_back(g.PrepareCommit(static_cast<uint32_t>(m)));
    }
    const Bytes message =
        testing::SyntheticPrivateMessage(g.group_id(), epoch, 1, {});
    std::vector<Result<uint64_t>> commit_results(
        kMembers, Result<uint64_t>(InternalError("not run")));
    std::vector<Result<uint64_t>> message_results(
        kMembers, Result<uint64_t>(InternalError("not run")));
    std::latch start(2 * kMembers);
    std::vector<std::thread> threads;
    for (int m = 0; m < kMembers; ++m) {
      EmbeddedDs* ds = instances[m % 2];
      threads.emplace_back([&, ds, m] {
        start.arrive_and_wait();
        commit_results[m] = ds->SubmitCommit(
            g.group_id(), static_cast<uint32_t>(m), epoch, commits[m].commit,
            g.ratchet_tree(), commits[m].group_info);
      });
      threads.emplace_back([&, m] {
        start.arrive_and_wait();
        message_results[m] = instances[(m + 1) % 2]->SubmitMessage(
            g.group_id(), static_cast<uint32_t>(m), epoch, message);
      });
    }
    for (std::thread& t : threads) t.join();
    int winner = -1;
    for (int m = 0; m < kMembers; ++m) {
      if (commit_results[m].ok()) {
        EXPECT_EQ(winner, -1) << "two commits won epoch " << epoch;
        winner = m;
      } else {
        EXPECT_EQ(commit_results[m].status().reason(), "wrong-epoch")
            << commit_results[m].status().ToString();
      }
      if (message_results[m].ok()) ++accepted_messages;
    }
    ASSERT_NE(winner, -1) << "no commit won epoch " << epoch;
    g.Advance(commits[winner]);
  }
  for (EmbeddedDs* ds : instances) {
    EXPECT_EQ(ds->LookupGroup(g.group_id())->epoch, 1u + kRounds);
    auto all = ds->FetchMessages(g.group_id(), 0, 1000);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->size(), static_cast<size_t>(kRounds + accepted_messages));
    for (size_t i = 0; i < all->size(); ++i) {
      EXPECT_EQ((*all)[i].seq, i + 1) << "seqs have a gap or a repeat";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, EmbeddedDsTest,
                         ::testing::ValuesIn(kAllStoreBackends),
                         StoreBackendName);

TEST(EmbeddedDsOpenTest, RefusesADatabaseWithoutItsTables) {
  testing::TempDir dir;
  FakeClock clock;
  {
    SQLite::Database db((dir / "empty.db").string(),
                        SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  }
  auto ds = EmbeddedDs::Open(dir / "empty.db", clock);
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(EmbeddedDs::Open(dir / "missing.db", clock).ok());
}

TEST(EmbeddedDsOpenTest, RefusesAPostgresqlDatabaseWithoutItsTables) {
  if (!testing::TestPgUrl()) GTEST_SKIP() << testing::kNoTestPgMessage;
  auto schema = PgTestSchema::Create(*testing::TestPgUrl());
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  store::pg::PgPoolOptions options;
  options.connect.url = (*schema)->url();
  auto pool = store::pg::PgPool::Open(options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  FakeClock clock;
  auto ds = EmbeddedDs::Open(*pool, clock);
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mimi::embedded_ds
