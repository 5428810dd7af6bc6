// Disks that fill and fail, at the store (issue 19 item 4; docs/reliability.md
// "Disks that fill and fail"). The store runs on testing::FaultyVfs, which
// fails a chosen write or fsync with SQLITE_FULL or an I/O error, tears a
// write, or "crashes" (no further I/O reaches the files):
//
// * every transition kind, failed at each of its writes and at its fsync,
//   with each error: kUnavailable storage-unavailable naming the problem,
//   nothing stored, and the same call succeeds once the disk works again;
// * creations the same way;
// * a torn write and a crash at every write of a scripted workload: the file
//   reopened with SQLite's own VFS passes PRAGMA integrity_check, holds every
//   write the store acknowledged, and each row is exactly where its event log
//   says (the one write in flight is there whole or not at all);
// * the writer reports the disk failing (Storage(), storage_errors) and fine
//   again after the next commit that changes something.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/faulty_vfs.h"

namespace mimi::store {
namespace {

using ::mimi::testing::FaultyVfs;
using ::mimi::testing::kFaultyVfs;
using ::mimi::testing::VfsFaultPlan;
using testing::DataFor;
using testing::MakeId;
using testing::MakeRecord;
using testing::PathTo;
using testing::TempDir;

constexpr UnixMillis kDiskFaultNow = 1'700'000'000'000;

const char* DiskFaultErrorName(VfsFaultPlan::Error e) {
  return e == VfsFaultPlan::Error::kFull ? "full" : "io";
}
const char* DiskFaultOpName(VfsFaultPlan::Op op) {
  return op == VfsFaultPlan::Op::kWrite ? "write" : "fsync";
}
std::string DiskFaultProblem(VfsFaultPlan::Error e) {
  return e == VfsFaultPlan::Error::kFull ? "disk full" : "I/O error";
}

class StoreDiskFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(FaultyVfs::Register().ok());
    FaultyVfs::Disarm();
    // Made once and copied: creating the schema is most of the cost of a
    // fresh database, and the loops below need many.
    ASSERT_NE(OpenOn(template_.File("mimi.db"), ""), nullptr);
  }

  // A fresh, empty database in `dir` (closed cleanly, so no WAL to copy).
  std::string FreshDb(const TempDir& dir) {
    const std::string path = dir.File("mimi.db");
    std::filesystem::copy_file(template_.File("mimi.db"), path);
    return path;
  }
  void TearDown() override { FaultyVfs::Disarm(); }

  std::unique_ptr<SqliteStore> OpenOn(const std::string& path,
                                      const std::string& vfs) {
    SqliteStoreOptions o;
    o.vfs = vfs;
    auto s = SqliteStore::Open(path, clock_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  Status Create(SqliteStore& store, const std::string& id, Role role) {
    MigrationRecord r = MakeRecord(id, role, "group-" + id);
    return role == Role::kSource
               ? store.CreateSourceMigration(r, "created")
               : store.CreateTargetMigration(r, kDiskFaultNow + 60'000, "created");
  }

  // Creates `id` and moves it along the shortest path to `state`.
  void BringTo(SqliteStore& store, const std::string& id, Role role,
               MigrationState state) {
    ASSERT_TRUE(Create(store, id, role).ok());
    auto path = PathTo(role, state);
    ASSERT_TRUE(path.has_value());
    for (const TransitionRule* r : *path) {
      auto t = store.Transition(id, role, r->from, r->to, DataFor(*r));
      ASSERT_TRUE(t.ok()) << t.status().ToString();
    }
  }

  FakeClock clock_{kDiskFaultNow};
  TempDir template_;
};

void ExpectStorageError(const Status& s, VfsFaultPlan::Error e,
                        const std::string& what) {
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << what << ": " << s.ToString();
  EXPECT_EQ(s.reason(), kStorageUnavailable) << what << ": " << s.ToString();
  EXPECT_NE(s.detail().find(DiskFaultProblem(e)), std::string::npos)
      << what << ": " << s.ToString();
}

TEST_F(StoreDiskFaultTest, EveryTransitionFailsWholeAndSucceedsOnceTheDiskWorks) {
  int cases = 0;
  for (const TransitionRule& rule : TransitionRules()) {
    for (auto error : {VfsFaultPlan::Error::kFull, VfsFaultPlan::Error::kIoError}) {
      TempDir dir;
      auto store = OpenOn(FreshDb(dir), kFaultyVfs);
      ASSERT_NE(store, nullptr);
      // How many writes and fsyncs this transition makes, on a twin row.
      const std::string twin = MakeId(cases, 1);
      BringTo(*store, twin, rule.role, rule.from);
      FaultyVfs::Disarm();
      ASSERT_TRUE(store->Transition(twin, rule.role, rule.from, rule.to,
                                    DataFor(rule))
                      .ok());
      const ::mimi::testing::VfsStats made = FaultyVfs::Stats();
      ASSERT_GT(made.writes, 0);
      ASSERT_GT(made.syncs, 0);
      for (auto op : {VfsFaultPlan::Op::kWrite, VfsFaultPlan::Op::kSync}) {
        const int64_t calls =
            op == VfsFaultPlan::Op::kWrite ? made.writes : made.syncs;
        for (int64_t n = 0; n < calls; ++n) {
          const std::string what =
              std::string(RoleName(rule.role)) + " " +
              std::string(StateName(rule.from)) + "->" +
              std::string(StateName(rule.to)) + " " + DiskFaultErrorName(error) +
              " at " + DiskFaultOpName(op) + " " + std::to_string(n);
          const std::string id = MakeId(cases, 2 + n + 100 * (op == VfsFaultPlan::Op::kSync));
          BringTo(*store, id, rule.role, rule.from);
          auto before = store->Events(id, rule.role);
          ASSERT_TRUE(before.ok());
          VfsFaultPlan plan;
          plan.op = op;
          plan.error = error;
          plan.skip_calls = n;
          FaultyVfs::Arm(plan);
          auto failed =
              store->Transition(id, rule.role, rule.from, rule.to, DataFor(rule));
          const ::mimi::testing::VfsStats seen = FaultyVfs::Stats();
          ASSERT_FALSE(failed.ok()) << what;
          EXPECT_EQ(seen.faults, 1) << what;
          ExpectStorageError(failed.status(), error, what);
          EXPECT_TRUE(store->writer()->Storage().failing) << what;
          // Nothing of it was stored; the disk works again and the same
          // call goes through.
          FaultyVfs::Disarm();
          auto row = store->Get(id, rule.role);
          ASSERT_TRUE(row.ok()) << what;
          EXPECT_EQ(row->state, rule.from) << what;
          auto after = store->Events(id, rule.role);
          ASSERT_TRUE(after.ok());
          EXPECT_EQ(*after, *before) << what;
          auto retried =
              store->Transition(id, rule.role, rule.from, rule.to, DataFor(rule));
          ASSERT_TRUE(retried.ok()) << what << ": " << retried.status().ToString();
          EXPECT_EQ(*retried, TransitionOutcome::kApplied) << what;
          EXPECT_EQ(store->Get(id, rule.role)->state, rule.to) << what;
          EXPECT_FALSE(store->writer()->Storage().failing) << what;
          ++cases;
        }
      }
      EXPECT_GT(store->writer()->Stats().storage_errors, 0u);
    }
  }
  std::printf("[disk-fault] %d transition faults, each stored nothing\n", cases);
  EXPECT_GT(cases, 0);
}

TEST_F(StoreDiskFaultTest, CreationsFailWholeOnAFullDisk) {
  for (Role role : {Role::kSource, Role::kTarget}) {
    for (auto error : {VfsFaultPlan::Error::kFull, VfsFaultPlan::Error::kIoError}) {
      TempDir dir;
      auto store = OpenOn(FreshDb(dir), kFaultyVfs);
      ASSERT_NE(store, nullptr);
      const std::string id = MakeId(7, static_cast<uint64_t>(role));
      VfsFaultPlan plan;
      plan.error = error;
      FaultyVfs::Arm(plan);  // every write fails: a full disk
      Status s = Create(*store, id, role);
      ExpectStorageError(s, error, std::string(RoleName(role)));
      FaultyVfs::Disarm();
      EXPECT_EQ(store->Get(id, role).status().code(), StatusCode::kNotFound);
      if (role == Role::kTarget) {
        EXPECT_EQ(store->GetNonce(id).status().code(), StatusCode::kNotFound);
      }
      EXPECT_TRUE(Create(*store, id, role).ok());
      EXPECT_TRUE(store->Get(id, role).ok());
    }
  }
}

TEST_F(StoreDiskFaultTest, WriterReportsTheDiskFailingUntilACommitChangesSomething) {
  TempDir dir;
  auto store = OpenOn(FreshDb(dir), kFaultyVfs);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->writer()->Storage().failing);
  VfsFaultPlan plan;
  FaultyVfs::Arm(plan);
  EXPECT_FALSE(Create(*store, MakeId(1), Role::kSource).ok());
  StorageHealth h = store->writer()->Storage();
  EXPECT_TRUE(h.failing);
  EXPECT_EQ(h.problem, "disk full");
  EXPECT_GT(h.failing_since_ms, 0);
  EXPECT_EQ(store->writer()->Stats().storage_errors, 1u);
  FaultyVfs::Disarm();
  // A write that changes nothing proves nothing about the disk.
  EXPECT_FALSE(store->Transition(MakeId(1), Role::kSource,
                                 MigrationState::kInitiated,
                                 MigrationState::kContentSent,
                                 DataFor(*testing::FindRule(
                                     Role::kSource, MigrationState::kInitiated,
                                     MigrationState::kContentSent)))
                   .ok());
  EXPECT_TRUE(store->writer()->Storage().failing);
  EXPECT_TRUE(Create(*store, MakeId(1), Role::kSource).ok());
  EXPECT_FALSE(store->writer()->Storage().failing);
}

// One step of the scripted workload: a creation or a transition.
struct DiskFaultStep {
  std::string id;
  Role role;
  const TransitionRule* rule;  // null: the creation
};

std::vector<DiskFaultStep> DiskFaultWorkload() {
  struct Plan {
    std::string id;
    Role role;
    MigrationState end;
  };
  const Plan plans[] = {
      {MakeId(1, 9), Role::kSource, MigrationState::kPurged},
      {MakeId(2, 9), Role::kTarget, MigrationState::kImported},
      {MakeId(3, 9), Role::kSource, MigrationState::kAborted},
      {MakeId(4, 9), Role::kTarget, MigrationState::kAborted},
  };
  std::vector<std::vector<DiskFaultStep>> each;
  for (const Plan& p : plans) {
    std::vector<DiskFaultStep> steps{{p.id, p.role, nullptr}};
    const auto path = PathTo(p.role, p.end);
    for (const TransitionRule* r : *path) {
      steps.push_back({p.id, p.role, r});
    }
    each.push_back(steps);
  }
  // Interleaved, as concurrent migrations write.
  std::vector<DiskFaultStep> out;
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (const auto& steps : each) {
      if (i < steps.size()) {
        out.push_back(steps[i]);
        any = true;
      }
    }
    if (!any) return out;
  }
}

TEST_F(StoreDiskFaultTest, TornWriteAndCrashAtEveryWriteLeaveAConsistentFile) {
  const std::vector<DiskFaultStep> steps = DiskFaultWorkload();
  auto run = [&](SqliteStore& store, size_t* done) {
    *done = 0;
    for (const DiskFaultStep& st : steps) {
      Status s = st.rule == nullptr
                     ? Create(store, st.id, st.role)
                     : store
                           .Transition(st.id, st.role, st.rule->from,
                                       st.rule->to, DataFor(*st.rule))
                           .status();
      if (!s.ok()) return s;
      ++*done;
    }
    return Status::Ok();
  };
  // Dry run: how many writes the workload makes.
  int64_t total_writes = 0;
  {
    TempDir dir;
    auto store = OpenOn(FreshDb(dir), kFaultyVfs);
    ASSERT_NE(store, nullptr);
    FaultyVfs::Disarm();
    size_t done = 0;
    ASSERT_TRUE(run(*store, &done).ok());
  }
  // With the close, whose checkpoint copies the WAL into the database file:
  // the faults below reach that file too.
  total_writes = FaultyVfs::Stats().writes;
  ASSERT_GT(total_writes, 0);
  ASSERT_LT(total_writes, 1000) << "the loop below is bounded by it";
  int crashes = 0, torn_then_failed = 0, at_close = 0;
  for (int64_t k = 0; k < total_writes; ++k) {
    for (bool crash : {true, false}) {
      const std::string what = "write " + std::to_string(k) +
                               (crash ? " torn, then crash" : " torn, then I/O error");
      TempDir dir;
      const std::string path = FreshDb(dir);
      size_t done = 0;
      {
        auto store = OpenOn(path, kFaultyVfs);
        ASSERT_NE(store, nullptr);
        VfsFaultPlan plan;
        plan.error = VfsFaultPlan::Error::kIoError;
        plan.skip_calls = k;
        plan.sticky = false;
        // Different prefixes: within the WAL frame header, within a page.
        plan.torn_bytes = 1 + (k * 997) % 3000;
        plan.crash = crash;
        FaultyVfs::Arm(plan);
        Status s = run(*store, &done);
        if (s.ok()) {
          // The fault comes in the checkpoint of the close below.
          ++at_close;
        } else {
          EXPECT_EQ(s.reason(), kStorageUnavailable)
              << what << ": " << s.ToString();
        }
        if (!crash && !s.ok()) {
          // The disk works again at once: the workload goes on from the
          // step that failed.
          size_t more = 0;
          const std::vector<DiskFaultStep> rest(steps.begin() + done, steps.end());
          for (const DiskFaultStep& st : rest) {
            Status r = st.rule == nullptr
                           ? Create(*store, st.id, st.role)
                           : store
                                 ->Transition(st.id, st.role, st.rule->from,
                                              st.rule->to, DataFor(*st.rule))
                                 .status();
            ASSERT_TRUE(r.ok()) << what << ": " << r.ToString();
            ++more;
          }
          done += more;
          ++torn_then_failed;
        } else if (crash) {
          ++crashes;
        }
      }  // closed while still "crashed": nothing more reaches the files
      EXPECT_EQ(FaultyVfs::Stats().faults, 1) << what;
      FaultyVfs::Disarm();
      {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok")
            << what;
      }
      auto store = OpenOn(path, "");
      ASSERT_NE(store, nullptr) << what;
      // Per row: the steps acknowledged, and possibly the one in flight.
      std::map<std::pair<std::string, Role>, std::vector<const DiskFaultStep*>> by_row;
      for (size_t i = 0; i < steps.size(); ++i) {
        by_row[{steps[i].id, steps[i].role}].push_back(&steps[i]);
      }
      for (const auto& [key, row_steps] : by_row) {
        size_t acked = 0, in_flight = 0;
        for (const DiskFaultStep* st : row_steps) {
          const size_t index = static_cast<size_t>(st - steps.data());
          if (index < done) ++acked;
          if (index == done) in_flight = 1;
        }
        auto events = store->Events(key.first, key.second);
        ASSERT_TRUE(events.ok()) << what;
        const size_t have = events->size();
        EXPECT_TRUE(have == acked || (in_flight == 1 && have == acked + 1))
            << what << ": " << key.first << " has " << have
            << " events, acknowledged " << acked;
        if (have == 0) {
          EXPECT_EQ(store->Get(key.first, key.second).status().code(),
                    StatusCode::kNotFound)
              << what;
          continue;
        }
        // The row is in the state its last event entered, with the data of
        // every transition it went through.
        auto row = store->GetWithMessages(key.first, key.second,
                                          kAllMessages);
        ASSERT_TRUE(row.ok()) << what << ": " << row.status().ToString();
        EXPECT_EQ(row->state, events->back().to_state) << what;
        for (size_t i = 1; i < have; ++i) {
          const TransitionRule* r = row_steps[i]->rule;
          EXPECT_EQ(events->at(i).to_state, r->to) << what;
          if (r->fields & kFieldContent) {
            EXPECT_EQ(row->content, *DataFor(*r).content) << what;
          }
          if (r->fields & kFieldConfirmation) {
            EXPECT_EQ(row->confirmation, *DataFor(*r).confirmation) << what;
          }
        }
      }
    }
  }
  std::printf(
      "[disk-fault] %lld writes: %d torn+crash, %d torn+error, %d of them in "
      "the closing checkpoint, all consistent\n",
      static_cast<long long>(total_writes), crashes, torn_then_failed,
      at_close);
  EXPECT_GT(at_close, 0) << "no fault reached the database file itself";
}

}  // namespace
}  // namespace mimi::store
