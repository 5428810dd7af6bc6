// The state machine of both roles on a real database, once per backend
// (SQLite file, PostgreSQL server: testing/store_backend.h): every legal
// transition applies with its data and event, every illegal or stale one is
// refused without changing anything, and a repeat is recognised.
#include <gtest/gtest.h>

#include <memory>

#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::DataFor;
using testing::FindRule;
using testing::kAllStates;
using testing::MakeId;
using testing::MakeRecord;
using testing::PathTo;
using testing::TempDir;
using ::mimi::testing::StoreBackendTest;
using S = MigrationState;

class TransitionsTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    OpenStore("store.db");
    if (store_ == nullptr) return;
  }

  // A new row of `role` driven to `state` along a shortest legal path.
  std::string RowIn(Role role, MigrationState state) {
    std::string id = MakeId(++next_id_);
    MigrationRecord rec = MakeRecord(id, role, "group-" + id);
    Status created = role == Role::kSource
                         ? store_->CreateSourceMigration(rec, "created")
                         : store_->CreateTargetMigration(
                               rec, clock_.NowMillis() + 600000, "issued");
    EXPECT_TRUE(created.ok()) << created.ToString();
    auto path = PathTo(role, state);
    EXPECT_TRUE(path.has_value()) << StateName(state);
    for (const TransitionRule* r : *path) {
      clock_.Advance(10);
      auto out = store_->Transition(id, role, r->from, r->to, DataFor(*r));
      EXPECT_TRUE(out.ok()) << out.status().ToString();
    }
    return id;
  }

  // Everything a call could have changed about one row.
  std::pair<MigrationRecord, std::vector<MigrationEvent>> Snapshot(
      const std::string& id, Role role) {
    return {store_->GetWithMessages(id, role, kAllMessages).value(),
            store_->Events(id, role).value()};
  }

  uint64_t next_id_ = 0;
};

TEST(TransitionTableTest, TerminalStatesAreThoseOfTheProtocolDoc) {
  for (S s : kAllStates) {
    bool source_terminal = s == S::kPurged || s == S::kAborted;
    bool target_terminal =
        s == S::kImported || s == S::kExpired || s == S::kAborted;
    if (IsStateOf(Role::kSource, s)) {
      EXPECT_EQ(IsTerminal(Role::kSource, s), source_terminal) << StateName(s);
    }
    if (IsStateOf(Role::kTarget, s)) {
      EXPECT_EQ(IsTerminal(Role::kTarget, s), target_terminal) << StateName(s);
    }
  }
  EXPECT_FALSE(IsStateOf(Role::kTarget, S::kContentSent));
  EXPECT_FALSE(IsStateOf(Role::kSource, S::kImported));
}

TEST(TransitionTableTest, OnlyConfirmedAndPurgedSourceRowsHoldAConfirmation) {
  for (S s : kAllStates) {
    EXPECT_EQ(HoldsConfirmation(Role::kSource, s),
              s == S::kConfirmed || s == S::kPurged)
        << StateName(s);
    EXPECT_FALSE(HoldsConfirmation(Role::kTarget, s)) << StateName(s);
  }
}

TEST(TransitionTableTest, StateNamesRoundTrip) {
  for (MigrationState s : kAllStates) {
    EXPECT_EQ(*ParseState(StateName(s)), s);
  }
  EXPECT_FALSE(ParseState("finished").ok());
  EXPECT_EQ(*ParseRole("target"), Role::kTarget);
  EXPECT_FALSE(ParseRole("both").ok());
}

// What HoldsConfirmation says of a state is what a row driven there holds.
TEST_P(TransitionsTest, HoldsConfirmationMatchesTheStoredRows) {
  int checked = 0;
  for (Role role : {Role::kSource, Role::kTarget}) {
    for (MigrationState s : kAllStates) {
      if (!IsStateOf(role, s)) continue;
      SCOPED_TRACE(std::string(RoleName(role)) + " " +
                   std::string(StateName(s)));
      const std::string id = RowIn(role, s);
      Result<Bytes> confirmation =
          store_->GetMessage(id, role, MessageKind::kConfirmation);
      ASSERT_TRUE(confirmation.ok()) << confirmation.status().ToString();
      EXPECT_EQ(!confirmation->empty(), HoldsConfirmation(role, s));
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
}

// Every legal transition of both roles: applies once with its data and one
// event, then is recognised on repeat, and a repeat with other data fails.
TEST_P(TransitionsTest, EveryLegalTransitionAppliesOnceAndRepeatsIdempotently) {
  int checked = 0;
  for (const TransitionRule& rule : TransitionRules()) {
    SCOPED_TRACE(std::string(RoleName(rule.role)) + " " +
                 std::string(StateName(rule.from)) + " -> " +
                 std::string(StateName(rule.to)));
    std::string id = RowIn(rule.role, rule.from);
    size_t events_before = store_->Events(id, rule.role)->size();
    clock_.Advance(1000);
    auto out =
        store_->Transition(id, rule.role, rule.from, rule.to, DataFor(rule));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, TransitionOutcome::kApplied);

    MigrationRecord row =
        store_->GetWithMessages(id, rule.role, kAllMessages).value();
    EXPECT_EQ(row.state, rule.to);
    EXPECT_EQ(row.updated_at, clock_.NowMillis());
    TransitionData want = DataFor(rule);
    if (want.content) {
      EXPECT_EQ(row.content, *want.content);
    }
    if (want.content_hash) {
      EXPECT_EQ(row.content_hash, *want.content_hash);
    }
    if (want.target_complete) {
      EXPECT_EQ(row.target_complete, *want.target_complete);
    }
    if (want.confirmation) {
      EXPECT_EQ(row.confirmation, *want.confirmation);
    }
    if (want.abort_message) {
      EXPECT_EQ(row.abort_message, *want.abort_message);
    }
    if (want.abort_ack) {
      EXPECT_EQ(row.abort_ack, *want.abort_ack);
    }
    EXPECT_EQ(row.next_attempt_at.has_value(),
              !IsTerminal(rule.role, rule.to));

    auto events = store_->Events(id, rule.role).value();
    ASSERT_EQ(events.size(), events_before + 1);
    EXPECT_EQ(events.back().from_state, rule.from);
    EXPECT_EQ(events.back().to_state, rule.to);
    EXPECT_EQ(events.back().at, clock_.NowMillis());
    EXPECT_EQ(events.back().detail, want.detail);

    auto tomb = store_->GetTombstone(row.group_id);
    // Written on entering confirmed, and kept through purged.
    EXPECT_EQ(tomb.ok(),
              rule.writes_tombstone || rule.to == MigrationState::kPurged);
    if (tomb.ok()) {
      EXPECT_EQ(tomb->target_domain, "target.example");
      EXPECT_EQ(tomb->migration_id, id);
      EXPECT_EQ(tomb->confirmation, row.confirmation);
    }

    auto before = Snapshot(id, rule.role);
    clock_.Advance(1000);
    auto again =
        store_->Transition(id, rule.role, rule.from, rule.to, DataFor(rule));
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, TransitionOutcome::kAlreadyApplied);
    if (rule.fields != 0) {
      auto other = store_->Transition(id, rule.role, rule.from, rule.to,
                                      DataFor(rule, "v2"));
      ASSERT_FALSE(other.ok());
      EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
    }
    EXPECT_EQ(Snapshot(id, rule.role), before);
    ++checked;
  }
  EXPECT_EQ(checked, 11);
}

// Every (from, to) pair that is not in the table, from a row actually in
// `from`, is refused and changes nothing.
TEST_P(TransitionsTest, EveryIllegalTransitionIsRefusedAndChangesNothing) {
  int refused = 0;
  for (Role role : {Role::kSource, Role::kTarget}) {
    for (MigrationState from : kAllStates) {
      if (!IsStateOf(role, from)) continue;
      std::string id = RowIn(role, from);
      for (MigrationState to : kAllStates) {
        if (FindRule(role, from, to) != nullptr) continue;
        SCOPED_TRACE(std::string(RoleName(role)) + " " +
                     std::string(StateName(from)) + " -> " +
                     std::string(StateName(to)));
        auto before = Snapshot(id, role);
        TransitionData data;
        data.content = ToBytes("x");
        auto out = store_->Transition(id, role, from, to, data);
        ASSERT_FALSE(out.ok());
        EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
        out = store_->Transition(id, role, from, to, TransitionData{});
        ASSERT_FALSE(out.ok());
        EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
        EXPECT_EQ(Snapshot(id, role), before);
        ++refused;
      }
    }
  }
  // 7 source states x 10 - 8 legal; 4 target states x 10 - 3 legal.
  EXPECT_EQ(refused, 7 * 10 - 8 + 4 * 10 - 3);
}

// A legal transition whose `from` is not the row's state: stale.
TEST_P(TransitionsTest, StaleTransitionsAreRefusedAndChangeNothing) {
  int refused = 0;
  for (const TransitionRule& rule : TransitionRules()) {
    for (MigrationState actual : kAllStates) {
      if (actual == rule.from || !IsStateOf(rule.role, actual)) continue;
      // A row that already took this step is a repeat, not stale.
      auto path = PathTo(rule.role, actual);
      bool took_it = false;
      for (const TransitionRule* r : *path) took_it |= r == &rule;
      if (took_it) continue;
      std::string id = RowIn(rule.role, actual);
      auto before = Snapshot(id, rule.role);
      auto out =
          store_->Transition(id, rule.role, rule.from, rule.to, DataFor(rule));
      ASSERT_FALSE(out.ok());
      EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition)
          << out.status().ToString();
      EXPECT_EQ(Snapshot(id, rule.role), before);
      ++refused;
    }
  }
  EXPECT_GT(refused, 40);
}

TEST_P(TransitionsTest, WrongDataIsRefusedAndChangesNothing) {
  std::string id = RowIn(Role::kSource, MigrationState::kInitiated);
  auto before = Snapshot(id, Role::kSource);
  TransitionData missing_hash;
  missing_hash.content = ToBytes("c");
  auto out = store_->Transition(id, Role::kSource, MigrationState::kInitiated,
                                MigrationState::kContentSent, missing_hash);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().detail().find("content_hash"), std::string::npos);
  TransitionData empty_value = missing_hash;
  empty_value.content_hash = Bytes{};
  out = store_->Transition(id, Role::kSource, MigrationState::kInitiated,
                           MigrationState::kContentSent, empty_value);
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Snapshot(id, Role::kSource), before);
}

TEST_P(TransitionsTest, UnknownMigrationIsNotFound) {
  const TransitionRule* r = FindRule(Role::kTarget, MigrationState::kRequested,
                                     MigrationState::kExpired);
  auto out = store_->Transition(MakeId(999), Role::kTarget, r->from, r->to,
                                DataFor(*r));
  EXPECT_EQ(out.status().code(), StatusCode::kNotFound);
  // The same id as the other role is another row.
  std::string id = RowIn(Role::kSource, MigrationState::kInitiated);
  out = store_->Transition(id, Role::kTarget, r->from, r->to, DataFor(*r));
  EXPECT_EQ(out.status().code(), StatusCode::kNotFound);
}

TEST_P(TransitionsTest, CreateRefusesDuplicatesAndASecondActiveSourceOfAGroup) {
  std::string id = MakeId(1000);
  MigrationRecord rec = MakeRecord(id, Role::kSource, "shared-group");
  ASSERT_TRUE(store_->CreateSourceMigration(rec, "").ok());
  EXPECT_EQ(store_->CreateSourceMigration(rec, "").code(),
            StatusCode::kAlreadyExists);

  MigrationRecord second = MakeRecord(MakeId(1001), Role::kSource,
                                      "shared-group");
  EXPECT_EQ(store_->CreateSourceMigration(second, "").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get(second.id, Role::kSource).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->Events(second.id, Role::kSource)->size(), 0u);

  // Once the first one is over, the group may leave again.
  const TransitionRule* abort = FindRule(Role::kSource,
                                         MigrationState::kInitiated,
                                         MigrationState::kAbortRequested);
  const TransitionRule* aborted = FindRule(Role::kSource,
                                           MigrationState::kAbortRequested,
                                           MigrationState::kAborted);
  ASSERT_TRUE(store_->Transition(id, Role::kSource, abort->from, abort->to,
                                 DataFor(*abort)).ok());
  EXPECT_EQ(store_->CreateSourceMigration(second, "").code(),
            StatusCode::kAlreadyExists)
      << "abort-requested still holds the group";
  ASSERT_TRUE(store_->Transition(id, Role::kSource, aborted->from, aborted->to,
                                 DataFor(*aborted)).ok());
  EXPECT_TRUE(store_->CreateSourceMigration(second, "").ok());

  // Target rows are nonces: one per id, however many per group.
  MigrationRecord t1 = MakeRecord(MakeId(2000), Role::kTarget, "g");
  MigrationRecord t2 = MakeRecord(MakeId(2001), Role::kTarget, "g");
  ASSERT_TRUE(store_->CreateTargetMigration(t1, 5, "").ok());
  ASSERT_TRUE(store_->CreateTargetMigration(t2, 5, "").ok());
  EXPECT_EQ(store_->CreateTargetMigration(t1, 5, "").code(),
            StatusCode::kAlreadyExists);
}

INSTANTIATE_TEST_SUITE_P(Backends, TransitionsTest,
                         ::testing::ValuesIn(::mimi::testing::kAllStoreBackends),
                         ::mimi::testing::StoreBackendName);

}  // namespace
}  // namespace mimi::store
