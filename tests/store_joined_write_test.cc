// Joined writes (store/joined_write.h), once per backend: the embedded DS's
// migration writes run inside the store's creation and transitions of a
// row, on the store's own writer (SQLite) or pool (PostgreSQL), and commit
// with them or not at all. On SQLite each such call is one commit of the
// writer, where the same work as separate calls was two or three.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "codec/json_text.h"
#include "embedded_ds/embedded_ds.h"
#include "mimi_portability/ds_reason.h"
#include "store/pg/pg_store.h"
#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/read_file.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::DataFor;
using testing::FindRule;
using testing::MakeId;
using testing::PathTo;
using ::mimi::testing::ReadTextFile;
using ::mimi::testing::StoreBackend;
using ::mimi::testing::StoreBackendTest;
using S = MigrationState;

Bytes Fixture(const std::string& name) {
  return FromHex(ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/") + name))
      .value();
}

// A joined write for both engines that counts its runs and answers `answer`.
struct CountingWrite {
  int runs = 0;
  Status answer = Status::Ok();
  JoinedWrite Write() {
    JoinedWrite w;
    w.sqlite = [this](SQLite::Database&) {
      ++runs;
      return answer;
    };
    w.postgresql = [this](pg::PgConnection&) {
      ++runs;
      return answer;
    };
    return w;
  }
};

class JoinedWriteTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    OpenStore("store.db");
    if (store_ == nullptr) return;
    if (GetParam() == StoreBackend::kSqlite) {
      auto ds = embedded_ds::EmbeddedDs::Open(
          static_cast<SqliteStore&>(*store_).writer(), clock_);
      ASSERT_TRUE(ds.ok()) << ds.status().ToString();
      ds_ = std::move(ds).value();
    } else {
      auto ds = embedded_ds::EmbeddedDs::Open(
          static_cast<pg::PgStore&>(*store_).pool(), clock_);
      ASSERT_TRUE(ds.ok()) << ds.status().ToString();
      ds_ = std::move(ds).value();
    }
    const nlohmann::json manifest = codec::ParseJson(
        ReadTextFile(std::string(MIMI_TEST_DATA_DIR "/mls/manifest.json")));
    group_id_ =
        FromHex(manifest["suites"][0]["group_id"].get<std::string>()).value();
    commit_ = Fixture("commit_public_suite1.hex");
    // ts-mls writes a bare GroupInfo; a DS takes it as an MLSMessage.
    const Bytes info =
        FromHex("00010004" + ReadTextFile(std::string(MIMI_TEST_DATA_DIR
                                                      "/mls/group_info_suite1.hex")))
            .value();
    auto created = ds_->CreateGroup(info, Fixture("ratchet_tree_suite1.hex"));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    epoch_ = created->epoch;
  }

  MigrationRecord SourceRecord(const std::string& id) {
    MigrationRecord r = testing::MakeRecord(id, Role::kSource, "unused");
    r.group_id = group_id_;
    r.epoch = epoch_;
    r.commit = commit_;
    return r;
  }

  // The writer's commits so far on SQLite; -1 on PostgreSQL, which has no
  // writer (each store call is one server transaction there by design).
  int64_t Commits() {
    if (GetParam() != StoreBackend::kSqlite) return -1;
    return static_cast<int64_t>(
        static_cast<SqliteStore&>(*store_).writer()->Stats().commits);
  }
  int64_t CommitsSince(int64_t before) {
    return before < 0 ? 1 : Commits() - before;
  }

  // A source row created with the group frozen for it, moved to `state`.
  std::string FrozenRowIn(S state) {
    const std::string id = MakeId(++next_id_);
    const JoinedWrite freeze = ds_->JoinFreeze(group_id_, epoch_, id);
    Status created = store_->CreateSourceMigration(SourceRecord(id), "init",
                                                   &freeze);
    EXPECT_TRUE(created.ok()) << created.ToString();
    const auto path = PathTo(Role::kSource, state);
    EXPECT_TRUE(path.has_value()) << StateName(state);
    if (!path) return id;
    for (const TransitionRule* r : *path) {
      auto out = store_->Transition(id, Role::kSource, r->from, r->to,
                                    DataFor(*r));
      EXPECT_TRUE(out.ok()) << out.status().ToString();
    }
    return id;
  }

  std::unique_ptr<embedded_ds::EmbeddedDs> ds_;
  Bytes group_id_, commit_;
  uint64_t epoch_ = 0;
  uint64_t next_id_ = 0;
};

TEST_P(JoinedWriteTest, TheFreezeRidesOnTheRowsCreation) {
  const std::string id = MakeId(1);
  const JoinedWrite freeze = ds_->JoinFreeze(group_id_, epoch_, id);
  const int64_t before = Commits();
  ASSERT_TRUE(
      store_->CreateSourceMigration(SourceRecord(id), "init", &freeze).ok());
  EXPECT_EQ(CommitsSince(before), 1);
  EXPECT_EQ(store_->Get(id, Role::kSource)->state, S::kInitiated);
  auto group = ds_->LookupGroup(group_id_);
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_TRUE(group->frozen);
  EXPECT_EQ(group->migration_id, id);
}

TEST_P(JoinedWriteTest, ARefusedFreezeLeavesNoRow) {
  const std::string id = MakeId(1);
  // A commit won the epoch: the freeze is for the one before.
  const JoinedWrite freeze = ds_->JoinFreeze(group_id_, epoch_ + 1, id);
  MigrationRecord record = SourceRecord(id);
  record.epoch = epoch_ + 1;
  Status created = store_->CreateSourceMigration(record, "init", &freeze);
  EXPECT_EQ(created.code(), StatusCode::kFailedPrecondition)
      << created.ToString();
  EXPECT_EQ(created.reason(), ds_reason::kEpochMismatch);
  EXPECT_EQ(store_->Get(id, Role::kSource).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetById(id)->empty());
  EXPECT_FALSE(ds_->LookupGroup(group_id_)->frozen);
}

TEST_P(JoinedWriteTest, ARefusedCreationRunsNoJoinedWrite) {
  const std::string id = FrozenRowIn(S::kInitiated);
  CountingWrite counting;
  const JoinedWrite w = counting.Write();
  Status again = store_->CreateSourceMigration(SourceRecord(id), "init", &w);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(counting.runs, 0);
}

TEST_P(JoinedWriteTest, TwoMovesAndTheFanOutCommitOnce) {
  const std::string id = FrozenRowIn(S::kContentSent);
  const TransitionData complete =
      DataFor(*FindRule(Role::kSource, S::kContentSent, S::kTargetComplete));
  const TransitionData confirmed =
      DataFor(*FindRule(Role::kSource, S::kTargetComplete, S::kConfirmed));
  const JoinedWrite fan_out = ds_->JoinFanOutCommit(group_id_, commit_, id);
  const Store::Move moves[] = {
      {S::kContentSent, S::kTargetComplete, &complete, nullptr},
      {S::kTargetComplete, S::kConfirmed, &confirmed, &fan_out}};
  const auto before_messages = ds_->FetchMessages(group_id_, 0, 100)->size();
  const int64_t before = Commits();
  auto outcome = store_->TransitionSteps(id, Role::kSource, moves);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, TransitionOutcome::kApplied);
  EXPECT_EQ(CommitsSince(before), 1);
  EXPECT_EQ(store_->Get(id, Role::kSource)->state, S::kConfirmed);
  auto events = store_->Events(id, Role::kSource);
  ASSERT_TRUE(events.ok());
  ASSERT_GE(events->size(), 2u);
  EXPECT_EQ(events->back().to_state, S::kConfirmed);
  EXPECT_EQ((*events)[events->size() - 2].to_state, S::kTargetComplete);
  auto messages = ds_->FetchMessages(group_id_, 0, 100);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), before_messages + 1);
  EXPECT_EQ(messages->back().message, commit_);

  // The same moves again: a repeat, and the fan-out does not run again.
  CountingWrite counting;
  const JoinedWrite counted = counting.Write();
  const Store::Move again[] = {
      {S::kContentSent, S::kTargetComplete, &complete, nullptr},
      {S::kTargetComplete, S::kConfirmed, &confirmed, &counted}};
  auto repeat = store_->TransitionSteps(id, Role::kSource, again);
  ASSERT_TRUE(repeat.ok()) << repeat.status().ToString();
  EXPECT_EQ(*repeat, TransitionOutcome::kAlreadyApplied);
  EXPECT_EQ(counting.runs, 0);
}

TEST_P(JoinedWriteTest, AFailingJoinedWriteRollsEveryMoveBack) {
  const std::string id = FrozenRowIn(S::kContentSent);
  const auto events_before = store_->Events(id, Role::kSource)->size();
  const TransitionData complete =
      DataFor(*FindRule(Role::kSource, S::kContentSent, S::kTargetComplete));
  const TransitionData confirmed =
      DataFor(*FindRule(Role::kSource, S::kTargetComplete, S::kConfirmed));
  CountingWrite failing;
  failing.answer = Status(StatusCode::kUnavailable, "test", "refused");
  const JoinedWrite w = failing.Write();
  const Store::Move moves[] = {
      {S::kContentSent, S::kTargetComplete, &complete, nullptr},
      {S::kTargetComplete, S::kConfirmed, &confirmed, &w}};
  auto outcome = store_->TransitionSteps(id, Role::kSource, moves);
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable);
  EXPECT_GE(failing.runs, 1);
  auto row = store_->GetWithMessages(id, Role::kSource, kAllMessages);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->state, S::kContentSent);
  EXPECT_TRUE(row->target_complete.empty());
  EXPECT_TRUE(row->confirmation.empty());
  EXPECT_EQ(store_->Events(id, Role::kSource)->size(), events_before);
  EXPECT_FALSE(store_->GetTombstone(group_id_).ok());
}

TEST_P(JoinedWriteTest, ThePurgeRidesOnPurged) {
  const std::string id = FrozenRowIn(S::kConfirmed);
  const ::mimi::Tombstone tombstone{group_id_, "target.test", 1,
                                    ToBytes("confirm")};
  const JoinedWrite purge = ds_->JoinDeleteGroup(group_id_, tombstone, id);
  TransitionData data;
  data.detail = "purged";
  const Store::Move move{S::kConfirmed, S::kPurged, &data, &purge};
  const int64_t before = Commits();
  auto outcome = store_->TransitionSteps(id, Role::kSource, {&move, 1});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(CommitsSince(before), 1);
  EXPECT_EQ(store_->Get(id, Role::kSource)->state, S::kPurged);
  auto gone = ds_->LookupGroup(group_id_);
  EXPECT_EQ(gone.status().reason(), ds_reason::kMoved)
      << gone.status().ToString();
}

TEST_P(JoinedWriteTest, MovesAreCheckedBeforeAnyTransaction) {
  const std::string id = FrozenRowIn(S::kContentSent);
  const TransitionData confirmed =
      DataFor(*FindRule(Role::kSource, S::kTargetComplete, S::kConfirmed));
  CountingWrite counting;
  const JoinedWrite w = counting.Write();
  // content-sent -> (gap) target-complete -> confirmed.
  const TransitionData content =
      DataFor(*FindRule(Role::kSource, S::kInitiated, S::kContentSent));
  const Store::Move gap[] = {
      {S::kInitiated, S::kContentSent, &content, nullptr},
      {S::kTargetComplete, S::kConfirmed, &confirmed, &w}};
  EXPECT_EQ(store_->TransitionSteps(id, Role::kSource, gap).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->TransitionSteps(id, Role::kSource, {}).status().code(),
            StatusCode::kInvalidArgument);
  // A joined write without a body for this engine.
  JoinedWrite other;
  if (GetParam() == StoreBackend::kSqlite) {
    other.postgresql = [](pg::PgConnection&) { return Status::Ok(); };
  } else {
    other.sqlite = [](SQLite::Database&) { return Status::Ok(); };
  }
  const TransitionData complete =
      DataFor(*FindRule(Role::kSource, S::kContentSent, S::kTargetComplete));
  const Store::Move wrong{S::kContentSent, S::kTargetComplete, &complete,
                          &other};
  EXPECT_EQ(
      store_->TransitionSteps(id, Role::kSource, {&wrong, 1}).status().code(),
      StatusCode::kInternal);
  EXPECT_EQ(counting.runs, 0);
  EXPECT_EQ(store_->Get(id, Role::kSource)->state, S::kContentSent);
}

INSTANTIATE_TEST_SUITE_P(Backends, JoinedWriteTest,
                         ::testing::ValuesIn(::mimi::testing::kAllStoreBackends),
                         ::mimi::testing::StoreBackendName);

}  // namespace
}  // namespace mimi::store
