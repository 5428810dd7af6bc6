// The store's queries and recovery bookkeeping: lookups by id, group and
// state, counts, due rows (and that the due query uses its index), the age of
// the oldest unfinished migration, leases and failure records. Each on both
// backends (testing/store_backend.h); the page counts and query plans are
// SQLite's own.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <span>
#include <utility>

#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::DataFor;
using testing::FindRule;
using testing::MakeId;
using testing::MakeRecord;
using testing::TempDir;
using ::mimi::testing::StoreBackendTest;
using S = MigrationState;

class QueriesTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    OpenStore("q.db");
    if (store_ == nullptr) return;
  }
  void Step(const std::string& id, Role role, S from, S to) {
    auto out = store_->Transition(id, role, from, to,
                                  DataFor(*FindRule(role, from, to)));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }

};

TEST_P(QueriesTest, LookupsCountsAndHistory) {
  std::string a = MakeId(1), b = MakeId(2), t = MakeId(3);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(a, Role::kSource, "g1"),
                                            "created").ok());
  clock_.Advance(100);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(b, Role::kSource, "g2"),
                                            "created").ok());
  ASSERT_TRUE(store_->CreateTargetMigration(MakeRecord(t, Role::kTarget, "g1"),
                                            clock_.NowMillis() + 5000,
                                            "issued").ok());
  clock_.Advance(100);
  Step(a, Role::kSource, S::kInitiated, S::kContentSent);

  MigrationRecord got = store_->Get(a, Role::kSource).value();
  EXPECT_EQ(got.state, S::kContentSent);
  EXPECT_EQ(got.group_id, ToBytes("g1"));
  EXPECT_EQ(got.created_at + 200, clock_.NowMillis());
  // The row comes without its messages; they are read when asked for.
  EXPECT_TRUE(got.init_request.empty());
  EXPECT_TRUE(got.content.empty());
  EXPECT_EQ(got.content_hash, ToBytes("hash:v1"));
  EXPECT_EQ(*store_->GetMessage(a, Role::kSource, MessageKind::kInitRequest),
            ToBytes("init:" + a));
  EXPECT_EQ(*store_->GetMessage(a, Role::kSource, MessageKind::kContent),
            ToBytes("content:v1"));
  EXPECT_TRUE(
      store_->GetMessage(a, Role::kSource, MessageKind::kConfirmation)->empty());
  EXPECT_EQ(store_->GetMessage(MakeId(9), Role::kSource, MessageKind::kContent)
                .status()
                .code(),
            StatusCode::kNotFound);
  MigrationRecord some = store_->GetWithMessages(
      a, Role::kSource,
      MessageBit(MessageKind::kCommit) | MessageBit(MessageKind::kRequest))
                             .value();
  EXPECT_EQ(some.commit, ToBytes("commit:" + a));
  EXPECT_EQ(some.request, ToBytes("request:" + a));
  EXPECT_TRUE(some.content.empty());
  EXPECT_TRUE(some.init_request.empty());
  MigrationRecord with_all =
      store_->GetWithMessages(a, Role::kSource, kAllMessages).value();
  MigrationRecord created = MakeRecord(a, Role::kSource, "g1");
  for (MessageKind kind : {MessageKind::kRequest, MessageKind::kResponse,
                           MessageKind::kInitRequest, MessageKind::kCommit}) {
    EXPECT_EQ(MessageOf(with_all, kind), MessageOf(created, kind))
        << MessageKindName(kind);
  }
  EXPECT_EQ(with_all.content, ToBytes("content:v1"));

  EXPECT_EQ(store_->GetById(a)->size(), 1u);
  auto by_group = store_->ListByGroup(ToBytes("g1")).value();
  ASSERT_EQ(by_group.size(), 2u);
  EXPECT_EQ(by_group[0].id, a);
  EXPECT_EQ(by_group[1].role, Role::kTarget);

  auto initiated = store_->ListByState(Role::kSource, S::kInitiated, 10);
  ASSERT_EQ(initiated->size(), 1u);
  EXPECT_EQ((*initiated)[0].id, b);

  std::vector<StateCount> want = {{Role::kSource, S::kContentSent, 1},
                                  {Role::kSource, S::kInitiated, 1},
                                  {Role::kTarget, S::kRequested, 1}};
  EXPECT_EQ(*store_->CountByState(), want);

  auto events = store_->Events(a, Role::kSource).value();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].from_state.has_value());
  EXPECT_EQ(events[0].to_state, S::kInitiated);
  EXPECT_EQ(events[0].detail, "created");
  EXPECT_EQ(events[1].from_state, S::kInitiated);
  EXPECT_LT(events[0].seq, events[1].seq);

  IssuedNonce nonce = store_->GetNonce(t).value();
  EXPECT_EQ(nonce.expires_at, clock_.NowMillis() - 100 + 5000);
  EXPECT_EQ(store_->GetNonce(a).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTombstone(ToBytes("g1")).status().code(),
            StatusCode::kNotFound);
}


// SQLite's own measures: pages read, query plans. PostgreSQL's plans are
// not checked here.
class QueriesSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::Open(dir_.File("q.db"), clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void Step(const std::string& id, Role role, S from, S to) {
    auto out = store_->Transition(id, role, from, to,
                                  DataFor(*FindRule(role, from, to)));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SqliteStore> store_;
};

// The content stream (OpenMessage) reads the stored bytes exactly, in any
// pieces: here a content large enough to be written in place (zeroblob and
// incremental blob I/O, sqlite_blob.h), and one small enough to be bound.
// A stream gives its read connection back to the store's pool when it
// ends (SQLite reuses them: sqlite_message_stream.cc); one that ends after
// the store closed must still read and close cleanly, and streams opened
// one after another on reused connections see every commit made between.
TEST_P(QueriesTest, StreamsOutliveTheStoreAndSeeLaterCommits) {
  std::vector<std::unique_ptr<MessageStream>> kept;
  for (int i = 1; i <= 12; ++i) {
    const std::string id = MakeId(500 + i);
    ASSERT_TRUE(store_
                    ->CreateSourceMigration(
                        MakeRecord(id, Role::kSource, "s" + std::to_string(i)),
                        "created")
                    .ok());
    {
      // Empty, then closed: its connection waits for the next stream.
      auto empty =
          store_->OpenMessage(id, Role::kSource, MessageKind::kContent);
      ASSERT_TRUE(empty.ok()) << empty.status().ToString();
      EXPECT_EQ((*empty)->size(), 0u);
    }
    TransitionData data =
        DataFor(*FindRule(Role::kSource, S::kInitiated, S::kContentSent));
    data.content = ToBytes("content " + std::to_string(i));
    ASSERT_TRUE(store_
                    ->Transition(id, Role::kSource, S::kInitiated,
                                 S::kContentSent, data)
                    .ok());
    auto stream = store_->OpenMessage(id, Role::kSource, MessageKind::kContent);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    ASSERT_EQ((*stream)->size(), data.content->size());
    if (i % 3 == 0) {
      kept.push_back(std::move(stream).value());
      continue;
    }
    Bytes read(data.content->size());
    ASSERT_TRUE((*stream)->Read(0, read).ok());
    EXPECT_EQ(read, *data.content);
  }
  store_.reset();
  for (auto& stream : kept) {
    Bytes read(stream->size());
    ASSERT_TRUE(stream->Read(0, read).ok());
    EXPECT_EQ(ToString(read).rfind("content ", 0), 0u);
  }
  kept.clear();
}

TEST_P(QueriesTest, MessageStreamReadsTheStoredBytes) {
  for (size_t size : {size_t{3 << 20} + 5, size_t{1000}}) {
    SCOPED_TRACE(size);
    const std::string id = MakeId(size);
    ASSERT_TRUE(store_->CreateSourceMigration(
                          MakeRecord(id, Role::kSource, "g" + std::to_string(size)),
                          "created")
                    .ok());
    auto empty = store_->OpenMessage(id, Role::kSource, MessageKind::kContent);
    ASSERT_TRUE(empty.ok()) << empty.status().ToString();
    EXPECT_EQ((*empty)->size(), 0u);
    TransitionData data =
        DataFor(*FindRule(Role::kSource, S::kInitiated, S::kContentSent));
    data.content = Bytes(size);
    for (size_t i = 0; i < size; ++i) {
      (*data.content)[i] = static_cast<uint8_t>(i * 7 + (i >> 11));
    }
    ASSERT_TRUE(store_->Transition(id, Role::kSource, S::kInitiated,
                                   S::kContentSent, data).ok());
    EXPECT_EQ(*store_->GetMessage(id, Role::kSource, MessageKind::kContent),
              *data.content);
    auto stream = store_->OpenMessage(id, Role::kSource, MessageKind::kContent);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    ASSERT_EQ((*stream)->size(), size);
    Bytes read(size);
    constexpr size_t kPiece = 300 * 1024 + 3;
    for (size_t off = 0; off < size; off += kPiece) {
      const size_t n = std::min(kPiece, size - off);
      ASSERT_TRUE((*stream)->Read(off, std::span<uint8_t>(read).subspan(off, n)).ok());
    }
    EXPECT_TRUE(read == *data.content);
    uint8_t one = 0;
    EXPECT_EQ((*stream)->Read(size, std::span<uint8_t>(&one, 1)).code(),
              StatusCode::kInvalidArgument);
    // An open stream holds a read snapshot only: writers go on.
    ASSERT_TRUE(store_->AcquireLease(id, Role::kSource, "worker-1", 1000).ok());
  }
  EXPECT_EQ(store_->OpenMessage(MakeId(99), Role::kSource, MessageKind::kContent)
                .status()
                .code(),
            StatusCode::kNotFound);
}

// A row whose content is several MiB: reading the row, or listing it,
// must not read the content (docs/performance.md, "Hot rows"). Counted in
// pages the read connection fetched from the file: the content alone is
// over a thousand.
TEST_F(QueriesSqliteTest, RowReadsAndListsDoNotReadTheMessages) {
  constexpr size_t kContentBytes = 4 << 20;
  const std::string id = MakeId(1);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(id, Role::kSource, "g"),
                                            "created").ok());
  TransitionData data =
      DataFor(*FindRule(Role::kSource, S::kInitiated, S::kContentSent));
  data.content = Bytes(kContentBytes, 0xc5);
  ASSERT_TRUE(store_->Transition(id, Role::kSource, S::kInitiated,
                                 S::kContentSent, data).ok());
  Step(id, Role::kSource, S::kContentSent, S::kTargetComplete);

  const int64_t content_pages = kContentBytes / 4096;
  auto pages_read_by = [&](const std::function<size_t()>& read) {
    const int64_t before = store_->PagesReadForTesting().value();
    EXPECT_EQ(read(), 1u);
    return store_->PagesReadForTesting().value() - before;
  };
  const std::pair<const char*, std::function<size_t()>> reads[] = {
      {"List", [&] { return store_->List(ListFilter{})->size(); }},
      {"Get", [&] { return size_t{store_->Get(id, Role::kSource).ok()}; }},
      {"GetById", [&] { return store_->GetById(id)->size(); }},
      {"ListByState",
       [&] {
         return store_->ListByState(Role::kSource, S::kTargetComplete, 10)
             ->size();
       }},
      {"ListByGroup",
       [&] { return store_->ListByGroup(ToBytes("g"))->size(); }},
      {"ListDue", [&] { return store_->ListDue(10)->size(); }},
      {"GetWithMessages but the content",
       [&] {
         auto row = store_->GetWithMessages(
             id, Role::kSource, kAllMessages & ~MessageBit(MessageKind::kContent));
         return size_t{row.ok() && !row->commit.empty() &&
                       !row->target_complete.empty() && row->content.empty()};
       }},
  };
  for (const auto& [name, read] : reads) {
    const int64_t pages = pages_read_by(read);
    EXPECT_LT(pages, content_pages / 16) << name;
    std::cout << name << " read " << pages << " pages\n";
  }
  // The measure sees the content when it is asked for.
  const int64_t content_read = pages_read_by([&] {
    return size_t{store_->GetMessage(id, Role::kSource, MessageKind::kContent)
                      ->size() == kContentBytes};
  });
  EXPECT_GE(content_read, content_pages);
  std::cout << "GetMessage(content) read " << content_read << " pages\n";
}

TEST_P(QueriesTest, OldestUnfinishedAgeIgnoresFinishedRows) {
  EXPECT_FALSE(store_->OldestUnfinishedAgeMillis()->has_value());
  std::string t = MakeId(1), s = MakeId(2);
  ASSERT_TRUE(store_->CreateTargetMigration(MakeRecord(t, Role::kTarget, "g"),
                                            1, "").ok());
  clock_.Advance(1000);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(s, Role::kSource, "g"),
                                            "").ok());
  clock_.Advance(500);
  EXPECT_EQ(store_->OldestUnfinishedAgeMillis()->value(), 1500);
  Step(t, Role::kTarget, S::kRequested, S::kExpired);
  EXPECT_EQ(store_->OldestUnfinishedAgeMillis()->value(), 500);
}

// A transition into a terminal state ends the row's lease, whoever holds
// it (the driver then spends no write on a release); other transitions keep
// it (docs/protocol.md "Lease ownership").
TEST_P(QueriesTest, ATerminalTransitionEndsTheLease) {
  const std::string s = MakeId(31), t = MakeId(32);
  ASSERT_TRUE(
      store_->CreateSourceMigration(MakeRecord(s, Role::kSource, "gs"), "")
          .ok());
  ASSERT_TRUE(store_
                  ->CreateTargetMigration(MakeRecord(t, Role::kTarget, "gt"),
                                          clock_.NowMillis() + 60000, "")
                  .ok());
  ASSERT_TRUE(store_->AcquireLease(s, Role::kSource, "driver-1", 60000).ok());
  const S path[] = {S::kInitiated, S::kContentSent, S::kTargetComplete,
                    S::kConfirmed, S::kPurged};
  for (size_t i = 1; i < std::size(path); ++i) {
    ASSERT_TRUE(store_
                    ->Transition(
                        s, Role::kSource, path[i - 1], path[i],
                        DataFor(*FindRule(Role::kSource, path[i - 1], path[i])))
                    .ok());
    const MigrationRecord row = store_->Get(s, Role::kSource).value();
    if (path[i] == S::kPurged) {
      EXPECT_FALSE(row.lease_owner.has_value()) << "purged";
      EXPECT_FALSE(row.lease_expires_at.has_value());
    } else {
      EXPECT_EQ(row.lease_owner, "driver-1") << StateName(path[i]);
    }
  }
  // The target's one step, under a lease of another owner's: imported ends it.
  ASSERT_TRUE(store_->AcquireLease(t, Role::kTarget, "driver-2", 60000).ok());
  ASSERT_TRUE(store_
                  ->Transition(t, Role::kTarget, S::kRequested, S::kImported,
                               DataFor(*FindRule(Role::kTarget, S::kRequested,
                                                 S::kImported)))
                  .ok());
  EXPECT_FALSE(store_->Get(t, Role::kTarget)->lease_owner.has_value());
  // Releasing a lease a transition ended is still fine.
  EXPECT_TRUE(store_->ReleaseLease(t, Role::kTarget, "driver-2").ok());
}

// A source row may be created under a lease (the init handler's drive):
// it is not due meanwhile, and it is the owner's as if AcquireLease had
// given it. A target row ignores lease fields.
TEST_P(QueriesTest, ASourceRowCanBeBornLeased) {
  const std::string s = MakeId(41), t = MakeId(42), bad = MakeId(43);
  MigrationRecord r = MakeRecord(s, Role::kSource, "gl");
  r.lease_owner = "inst/3#17";
  r.lease_expires_at = clock_.NowMillis() + 5000;
  ASSERT_TRUE(store_->CreateSourceMigration(r, "").ok());
  MigrationRecord row = store_->Get(s, Role::kSource).value();
  EXPECT_EQ(row.lease_owner, "inst/3#17");
  EXPECT_EQ(row.lease_expires_at, clock_.NowMillis() + 5000);
  EXPECT_EQ(row.lease_holder, "inst/3");
  EXPECT_TRUE(store_->ListDue(10)->empty()) << "a leased row is not due";
  EXPECT_EQ(store_->AcquireLease(s, Role::kSource, "inst/4#1", 1000).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->ReleaseLease(s, Role::kSource, "inst/3#17").ok());
  EXPECT_EQ(store_->ListDue(10)->size(), 1u);

  MigrationRecord no_expiry = MakeRecord(bad, Role::kSource, "gb");
  no_expiry.lease_owner = "inst/3#18";
  EXPECT_EQ(store_->CreateSourceMigration(no_expiry, "").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get(bad, Role::kSource).status().code(),
            StatusCode::kNotFound);

  MigrationRecord target = MakeRecord(t, Role::kTarget, "gt");
  target.lease_owner = "inst/3#19";
  target.lease_expires_at = clock_.NowMillis() + 5000;
  ASSERT_TRUE(
      store_->CreateTargetMigration(target, clock_.NowMillis() + 60000, "")
          .ok());
  EXPECT_FALSE(store_->Get(t, Role::kTarget)->lease_owner.has_value());
}

TEST_P(QueriesTest, DueRowsLeasesAndFailures) {
  std::string a = MakeId(1), t = MakeId(2);
  ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(a, Role::kSource, "g"),
                                            "").ok());
  ASSERT_TRUE(store_->CreateTargetMigration(MakeRecord(t, Role::kTarget, "g"),
                                            clock_.NowMillis() + 60000, "")
                  .ok());
  // The new source row is due at once; the target row when its nonce expires.
  auto due = store_->ListDue(10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].id, a);

  ASSERT_TRUE(store_->AcquireLease(a, Role::kSource, "worker-1", 1000).ok());
  EXPECT_TRUE(store_->ListDue(10)->empty()) << "leased rows are not due";
  Status other = store_->AcquireLease(a, Role::kSource, "worker-2", 1000);
  EXPECT_EQ(other.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->AcquireLease(a, Role::kSource, "worker-1", 1000).ok())
      << "the owner may extend its lease";
  clock_.Advance(1000);
  EXPECT_EQ(store_->ListDue(10)->size(), 1u) << "an expired lease is free";
  ASSERT_TRUE(store_->AcquireLease(a, Role::kSource, "worker-2", 1000).ok());
  ASSERT_TRUE(store_->ReleaseLease(a, Role::kSource, "worker-1").ok());
  EXPECT_EQ(store_->Get(a, Role::kSource)->lease_owner, "worker-2")
      << "only the owner releases";
  ASSERT_TRUE(store_->ReleaseLease(a, Role::kSource, "worker-2").ok());
  EXPECT_FALSE(store_->Get(a, Role::kSource)->lease_owner.has_value());
  EXPECT_EQ(store_->AcquireLease(MakeId(9), Role::kSource, "w", 1).code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(store_->RecordFailure(a, Role::kSource, "target down",
                                    clock_.NowMillis() + 5000, false).ok());
  EXPECT_TRUE(store_->ListDue(10)->empty());
  clock_.Advance(5000);
  UnixMillis stall_time = clock_.NowMillis();
  ASSERT_TRUE(store_->RecordFailure(a, Role::kSource, "still down",
                                    clock_.NowMillis() + 5000, true).ok());
  clock_.Advance(5000);
  ASSERT_TRUE(store_->RecordFailure(a, Role::kSource, "still down",
                                    clock_.NowMillis() + 5000, true).ok());
  MigrationRecord row = store_->Get(a, Role::kSource).value();
  EXPECT_EQ(row.attempt_count, 3);
  EXPECT_EQ(row.last_error, "still down");
  EXPECT_EQ(row.stalled_since, stall_time);
  ASSERT_EQ(store_->ListStalled(10)->size(), 1u);

  // A transition is progress: the retry bookkeeping starts over.
  Step(a, Role::kSource, S::kInitiated, S::kContentSent);
  row = store_->Get(a, Role::kSource).value();
  EXPECT_EQ(row.attempt_count, 0);
  EXPECT_EQ(row.last_error, "");
  EXPECT_FALSE(row.stalled_since.has_value());
  EXPECT_EQ(row.next_attempt_at, clock_.NowMillis());
  EXPECT_TRUE(store_->ListStalled(10)->empty());

  clock_.Advance(60000);
  due = store_->ListDue(10).value();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].id, a) << "earliest first (a was due before t expired)";
  EXPECT_EQ(store_->ListDue(1)->size(), 1u);
}

TEST_F(QueriesSqliteTest, DueQueryUsesItsIndex) {
  SQLite::Database db(dir_.File("q.db"));
  SQLite::Statement plan(db, std::string("EXPLAIN QUERY PLAN ") +
                                 SqliteStore::kDueQuery);
  plan.bind(1, int64_t{0});
  plan.bind(2, 10);
  std::string text;
  while (plan.executeStep()) text += plan.getColumn(3).getString() + "\n";
  EXPECT_NE(text.find("migrations_due"), std::string::npos) << text;
}

// Newest first over 100,000 rows must not sort the table on each call.
TEST_F(QueriesSqliteTest, ListQueriesNeedNoSortForTheCommonFilters) {
  ASSERT_TRUE(SqliteStore::Open(dir_.File("l.db"), clock_).ok());
  SQLite::Database db(dir_.File("l.db"));
  auto plan_of = [&db](const ListFilter& f) {
    SQLite::Statement plan(db, "EXPLAIN QUERY PLAN " + SqliteStore::ListQuery(f));
    if (f.role) plan.bind(1, std::string(RoleName(*f.role)));
    if (f.state) plan.bind(2, std::string(StateName(*f.state)));
    plan.bind(4, f.limit);
    std::string text;
    while (plan.executeStep()) text += plan.getColumn(3).getString() + "\n";
    return text;
  };
  ListFilter all;
  std::string p = plan_of(all);
  EXPECT_NE(p.find("migrations_by_created"), std::string::npos) << p;
  EXPECT_EQ(p.find("TEMP B-TREE"), std::string::npos) << p;
  ListFilter by_state;
  by_state.state = MigrationState::kPurged;
  p = plan_of(by_state);
  EXPECT_NE(p.find("migrations_by_state"), std::string::npos) << p;
  EXPECT_EQ(p.find("TEMP B-TREE"), std::string::npos) << p;
  ListFilter by_role;
  by_role.role = Role::kTarget;
  p = plan_of(by_role);
  EXPECT_NE(p.find("migrations_by_role"), std::string::npos) << p;
  EXPECT_EQ(p.find("TEMP B-TREE"), std::string::npos) << p;
}

INSTANTIATE_TEST_SUITE_P(Backends, QueriesTest,
                         ::testing::ValuesIn(::mimi::testing::kAllStoreBackends),
                         ::mimi::testing::StoreBackendName);

}  // namespace
}  // namespace mimi::store
