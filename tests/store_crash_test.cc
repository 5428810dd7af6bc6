// Crash consistency: a child process drives transitions in a loop and is
// killed with SIGKILL at random moments; after every kill the file must be
// intact, every row must agree with its event log, no transition may be half
// applied, and nothing the child saw committed may be lost.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "store/sqlite_store.h"
#include "store_testing.h"

namespace mimi::store {
namespace {

using testing::Child;
using testing::FindRule;
using testing::TempDir;

using Key = std::pair<std::string, std::string>;  // id, role

uint32_t FieldsOfRow(SQLite::Statement& q, int first) {
  static constexpr uint32_t kBits[] = {
      kFieldContent,      kFieldContentHash, kFieldTargetComplete,
      kFieldConfirmation, kFieldAbortMessage, kFieldAbortAck};
  uint32_t f = 0;
  for (int i = 0; i < 6; ++i) {
    if (!q.getColumn(first + i).isNull()) f |= kBits[i];
  }
  return f;
}

// Checks the whole file with plain SQL (not through the store) and returns
// every (id, role, state) an event says was entered.
void CheckConsistent(const std::string& path,
                     std::set<std::tuple<std::string, std::string,
                                         std::string>>* entered) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  ASSERT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
  SQLite::Statement fk(db, "PRAGMA foreign_key_check");
  ASSERT_FALSE(fk.executeStep()) << "a dangling reference";

  // Replay each row's events: a chain of legal transitions from creation.
  std::map<Key, std::pair<std::string, uint32_t>> replayed;  // state, fields
  SQLite::Statement ev(db,
                       "SELECT migration_id, role, from_state, to_state "
                       "FROM migration_events ORDER BY seq");
  while (ev.executeStep()) {
    Key k{ev.getColumn(0).getString(), ev.getColumn(1).getString()};
    Role role = *ParseRole(k.second);
    std::string to = ev.getColumn(3).getString();
    entered->insert({k.first, k.second, to});
    auto it = replayed.find(k);
    if (ev.getColumn(2).isNull()) {
      ASSERT_TRUE(it == replayed.end()) << "created twice: " << k.first;
      ASSERT_EQ(to, StateName(InitialState(role)));
      replayed[k] = {to, 0};
      continue;
    }
    ASSERT_TRUE(it != replayed.end()) << "event before creation: " << k.first;
    std::string from = ev.getColumn(2).getString();
    ASSERT_EQ(from, it->second.first) << "broken chain for " << k.first;
    const TransitionRule* rule =
        FindRule(role, *ParseState(from), *ParseState(to));
    ASSERT_NE(rule, nullptr) << from << " -> " << to;
    it->second = {to, it->second.second | rule->fields};
  }

  // Each row is where its log says, holding exactly the data its path wrote.
  auto message = [](const char* kind) {
    return std::string("(SELECT body FROM migration_messages m WHERE m.id = "
                       "r.id AND m.role = r.role AND m.kind = '") +
           kind + "')";
  };
  SQLite::Statement rows(db, "SELECT r.id, r.role, r.state, " +
                                 message("content") + ", r.content_hash, " +
                                 message("target_complete") + ", " +
                                 message("confirmation") + ", " +
                                 message("abort_message") + ", " +
                                 message("abort_ack") + " FROM migrations r");
  size_t n = 0, confirmed = 0;
  while (rows.executeStep()) {
    ++n;
    Key k{rows.getColumn(0).getString(), rows.getColumn(1).getString()};
    auto it = replayed.find(k);
    ASSERT_TRUE(it != replayed.end()) << "row without events: " << k.first;
    std::string state = rows.getColumn(2).getString();
    ASSERT_EQ(state, it->second.first) << k.first;
    ASSERT_EQ(FieldsOfRow(rows, 3), it->second.second)
        << "half-applied data on " << k.first << " in " << state;
    if (k.second == "source" && (state == "confirmed" || state == "purged")) {
      ++confirmed;
    }
  }
  ASSERT_EQ(n, replayed.size());
  // Tombstones exactly for the confirmed rows (each group is its own).
  ASSERT_EQ(db.execAndGet("SELECT COUNT(*) FROM tombstones").getInt64(),
            static_cast<int64_t>(confirmed));
  ASSERT_EQ(db.execAndGet("SELECT COUNT(*) FROM tombstones t JOIN migrations "
                          "m ON m.id = t.migration_id AND m.role = 'source' "
                          "AND m.state IN ('confirmed', 'purged')")
                .getInt64(),
            static_cast<int64_t>(confirmed));
  // Every target row has its nonce, and every nonce its row.
  ASSERT_EQ(db.execAndGet("SELECT COUNT(*) FROM issued_nonces").getInt64(),
            db.execAndGet("SELECT COUNT(*) FROM migrations WHERE role = "
                          "'target'")
                .getInt64());
  ASSERT_EQ(db.execAndGet("SELECT COUNT(*) FROM migrations m JOIN "
                          "issued_nonces n ON n.nonce = m.id "
                          "WHERE m.role = 'target'")
                .getInt64(),
            db.execAndGet("SELECT COUNT(*) FROM issued_nonces").getInt64());
}

TEST(StoreCrashTest, SurvivesTwoHundredSigkillsMidTransition) {
  constexpr int kKills = 200;
  TempDir dir;
  std::string path = dir.File("crash.db");
  std::mt19937 rng(20240611);
  // A bound against a hang, not a speed target: 200 rounds take ~25 s on a
  // quiet machine and twice that or more under the sanitizers at load.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  int kills = 0;
  size_t reported_total = 0;
  for (int round = 0; round < kKills; ++round) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "too slow";
    Child child({MIMI_STORE_HELPER, "drive", path, std::to_string(round + 1)});
    ASSERT_TRUE(child.started());
    // Wait until it is committing, then kill it after a random while (which
    // lands anywhere in a transaction, including inside fsync).
    while (child.buffer().empty()) {
      ASSERT_TRUE(child.ReadFor(10000)) << "child died or hung at start";
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<>(0, 8000)(rng)));
    int status = child.Kill();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child stopped by itself: " << status;
    ++kills;
    while (child.ReadFor(0)) {
    }

    std::set<std::tuple<std::string, std::string, std::string>> entered;
    CheckConsistent(path, &entered);
    if (HasFatalFailure()) return;
    // Durability: what the child saw committed is there.
    std::istringstream lines(child.buffer());
    std::string line;
    while (std::getline(lines, line)) {
      if (lines.eof()) break;  // the last line may have been cut by the kill
      std::istringstream f(line);
      std::string tag, id, role, state;
      f >> tag >> id >> role >> state;
      ASSERT_EQ(tag, "C");
      ASSERT_TRUE(entered.count({id, role, state}))
          << "committed but lost: " << line;
      ++reported_total;
    }
    // And the store itself opens it again (WAL recovery, no upgrade).
    FakeClock clock;
    auto store = SqliteStore::Open(path, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  EXPECT_EQ(kills, kKills);
  EXPECT_GT(reported_total, static_cast<size_t>(kKills));
  RecordProperty("committed_calls_checked", static_cast<int>(reported_total));
}

}  // namespace
}  // namespace mimi::store
