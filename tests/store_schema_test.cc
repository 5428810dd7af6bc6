// Schema steps, upgrades from the v1 fixture, refusal of newer databases and
// the connection settings of the SQLite store; and the same history in
// PostgreSQL's dialect (migrations/postgresql/) on a test server: every
// step reaches the tables, columns, indexes and triggers SQLite's steps
// reach, old databases upgrade keeping their data, a newer one is refused,
// concurrent upgrades apply each step once, and the triggers hold.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <memory>
#include <thread>
#include <vector>

#include "store/embedded_sql.h"
#include "store/pg/pg_connection.h"
#include "store/pg/pg_schema_upgrade.h"
#include "store/pg/pg_store.h"
#include "store/schema_upgrade.h"
#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/read_file.h"
#include "testing/store_backend.h"

namespace mimi::store {
namespace {

using testing::TempDir;

std::string Collapse(std::string s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// A structural description of a schema: every table's columns, foreign keys
// and indexes (with their columns and partial conditions), and every
// trigger's text. Compared instead of sqlite_master.sql because ALTER TABLE
// rewrites a table's CREATE text differently from a fresh CREATE.
std::string DescribeSchema(SQLite::Database& db) {
  std::ostringstream out;
  SQLite::Statement objects(db,
                            "SELECT type, name, tbl_name, sql FROM "
                            "sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                            "ORDER BY type, name");
  while (objects.executeStep()) {
    std::string type = objects.getColumn(0).getString();
    std::string name = objects.getColumn(1).getString();
    out << type << " " << name << " on " << objects.getColumn(2).getString()
        << "\n";
    if (type == "table") {
      SQLite::Statement cols(db, "SELECT name, type, \"notnull\", dflt_value, "
                                 "pk FROM pragma_table_info(?1) ORDER BY cid");
      cols.bind(1, name);
      while (cols.executeStep()) {
        out << "  column " << cols.getColumn(0).getString() << " "
            << cols.getColumn(1).getString() << " notnull="
            << cols.getColumn(2).getInt() << " default="
            << cols.getColumn(3).getString() << " pk="
            << cols.getColumn(4).getInt() << "\n";
      }
      SQLite::Statement fks(db, "SELECT \"table\", \"from\", \"to\", seq "
                                "FROM pragma_foreign_key_list(?1) "
                                "ORDER BY id, seq");
      fks.bind(1, name);
      while (fks.executeStep()) {
        out << "  fk " << fks.getColumn(1).getString() << " -> "
            << fks.getColumn(0).getString() << "."
            << fks.getColumn(2).getString() << "\n";
      }
      // CHECK constraints live only in the CREATE text; keep them.
      std::string sql = objects.getColumn(3).getString();
      for (size_t p = sql.find("CHECK"); p != std::string::npos;
           p = sql.find("CHECK", p + 1)) {
        out << "  " << Collapse(sql.substr(p, sql.find(')', p) - p + 1))
            << "\n";
      }
    } else if (type == "index") {
      SQLite::Statement cols(db, "SELECT name FROM pragma_index_info(?1) "
                                 "ORDER BY seqno");
      cols.bind(1, name);
      while (cols.executeStep()) {
        out << "  key " << cols.getColumn(0).getString() << "\n";
      }
      if (!objects.getColumn(3).isNull()) {
        std::string sql = objects.getColumn(3).getString();
        size_t where = sql.find("WHERE");
        out << "  unique=" << (sql.find("UNIQUE") != std::string::npos)
            << " where="
            << (where == std::string::npos ? "" : Collapse(sql.substr(where)))
            << "\n";
      }
    } else {
      out << "  " << Collapse(objects.getColumn(3).getString()) << "\n";
    }
  }
  return out.str();
}

using ::mimi::testing::ReadTextFile;

TEST(EmbeddedSqlTest, StepsAreNumberedFromOneWithoutGaps) {
  const auto& steps = EmbeddedMigrations();
  ASSERT_FALSE(steps.empty());
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].version, static_cast<int>(i) + 1) << steps[i].name;
    EXPECT_FALSE(steps[i].sql.empty()) << steps[i].name;
  }
  EXPECT_EQ(LatestSchemaVersion(), steps.back().version);
}

TEST(EmbeddedSqlTest, EmbeddedTextIsTheSourceFiles) {
  EXPECT_EQ(kSchemaSql,
            ReadTextFile(std::string(MIMI_SOURCE_DIR "/schema/schema.sql")));
  for (const auto& step : EmbeddedMigrations()) {
    EXPECT_EQ(step.sql,
              ReadTextFile(std::string(MIMI_SOURCE_DIR "/migrations/") +
                           std::string(step.name) + ".sql"));
  }
}

TEST(SchemaTest, SchemaFileEqualsAllStepsApplied) {
  TempDir dir;
  SQLite::Database from_schema(dir.File("schema.db"),
                               SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  from_schema.exec(std::string(kSchemaSql));
  SQLite::Database from_steps(dir.File("steps.db"),
                              SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  ASSERT_TRUE(UpgradeSchema(from_steps).ok());
  std::string expected = DescribeSchema(from_schema);
  EXPECT_NE(expected.find("table migrations"), std::string::npos);
  EXPECT_EQ(DescribeSchema(from_steps), expected);
  EXPECT_EQ(*ReadSchemaVersion(from_steps), LatestSchemaVersion());
}

// Every older version upgrades to the same schema as a fresh database.
TEST(SchemaTest, EveryOlderVersionUpgradesToTheCurrentSchema) {
  TempDir dir;
  SQLite::Database fresh(dir.File("fresh.db"),
                         SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  fresh.exec(std::string(kSchemaSql));
  for (int v = 0; v <= LatestSchemaVersion(); ++v) {
    std::string path = dir.File("v" + std::to_string(v) + ".db");
    {
      SQLite::Database old(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      ASSERT_TRUE(UpgradeSchema(old, v).ok());
      ASSERT_EQ(*ReadSchemaVersion(old), v);
    }
    FakeClock clock;
    auto store = SqliteStore::Open(path, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store->reset();
    SQLite::Database check(path);
    EXPECT_EQ(*ReadSchemaVersion(check), LatestSchemaVersion());
    EXPECT_EQ(DescribeSchema(check), DescribeSchema(fresh)) << "from v" << v;
  }
}

TEST(SchemaTest, UpgradesTheV1FixtureAndKeepsItsData) {
  TempDir dir;
  std::string path = dir.File("v1.db");
  std::filesystem::copy_file(std::string(MIMI_TEST_DATA_DIR "/store/v1.db"),
                             path);
  {
    SQLite::Database raw(path);
    ASSERT_EQ(*ReadSchemaVersion(raw), 1) << "the fixture must stay at v1";
  }
  FakeClock clock;
  auto store = SqliteStore::Open(path, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*store)->ReadPragma("user_version"),
            std::to_string(LatestSchemaVersion()));

  // The fixture holds one row per reachable state of each role.
  auto counts = (*store)->CountByState();
  ASSERT_TRUE(counts.ok());
  int64_t total = 0;
  for (const StateCount& c : *counts) {
    EXPECT_EQ(c.count, 1) << StateName(c.state);
    ++total;
  }
  EXPECT_EQ(total, 11);
  auto imported = (*store)->ListByState(Role::kTarget,
                                        MigrationState::kImported, 10);
  ASSERT_TRUE(imported.ok());
  ASSERT_EQ(imported->size(), 1u);
  EXPECT_EQ(ToString(*(*store)->GetMessage((*imported)[0].id, Role::kTarget,
                                          MessageKind::kContent)),
            "content:v1");
  auto events = (*store)->Events((*imported)[0].id, Role::kTarget);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(events->back().to_state, MigrationState::kImported);

  // Old rows keep moving under the new binary.
  auto initiated = (*store)->ListByState(Role::kSource,
                                         MigrationState::kInitiated, 10);
  ASSERT_TRUE(initiated.ok());
  ASSERT_EQ(initiated->size(), 1u);
  const TransitionRule* rule = testing::FindRule(
      Role::kSource, MigrationState::kInitiated, MigrationState::kContentSent);
  auto out = (*store)->Transition((*initiated)[0].id, Role::kSource,
                                  rule->from, rule->to,
                                  testing::DataFor(*rule));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*(*store)->ReadPragma("integrity_check"), "ok");
}

// Bytes that are not text: every byte value, `n` long, varied by `seed`.
Bytes Binary(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = static_cast<uint8_t>(i * 131 + seed + (i >> 9));
  }
  return b;
}

// Step 4 moves every message out of the migrations rows and the embedded
// DS's tree and GroupInfo out of ds_groups. A version 3 database with rows
// in every reachable state of both roles, every message kind set somewhere
// (some larger than a page, so on overflow pages), and DS groups with
// trees, upgrades with every byte and every other column where it was.
TEST(SchemaTest, UpgradeFromV3MovesEveryMessageAndTreeByteForByte) {
  TempDir dir;
  const std::string path = dir.File("v3.db");
  static constexpr const char* kColumns[] = {
      "request",         "response",     "init_request",  "commit_message",
      "content",         "target_complete", "confirmation", "abort_message",
      "abort_ack"};
  static constexpr MessageKind kKinds[] = {
      MessageKind::kRequest,        MessageKind::kResponse,
      MessageKind::kInitRequest,    MessageKind::kCommit,
      MessageKind::kContent,        MessageKind::kTargetComplete,
      MessageKind::kConfirmation,   MessageKind::kAbortMessage,
      MessageKind::kAbortAck};
  std::vector<MigrationRecord> want;
  int64_t messages_written = 0;
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(UpgradeSchema(db, 3).ok());
    ASSERT_EQ(*ReadSchemaVersion(db), 3);
    uint8_t seed = 1;
    uint64_t n = 0;
    for (Role role : {Role::kSource, Role::kTarget}) {
      for (MigrationState state : testing::kAllStates) {
        auto path_to = testing::PathTo(role, state);
        if (!path_to) continue;
        MigrationRecord r;
        r.id = testing::MakeId(++n, 3);
        r.role = role;
        r.state = state;
        r.group_id = Binary(16 + n, seed++);
        r.epoch = (uint64_t{1} << 63) + n;  // stored as its int64 bits
        r.ciphersuite = static_cast<uint16_t>(n);
        r.source_domain = "source" + std::to_string(n) + ".example";
        r.target_domain = "target.example";
        r.request = Binary(90, seed++);
        r.response = Binary(200, seed++);
        if (role == Role::kSource) {
          r.init_request = Binary(700, seed++);
          r.commit = Binary(5000, seed++);  // larger than a page
        }
        uint32_t fields = 0;
        for (const TransitionRule* rule : *path_to) fields |= rule->fields;
        // A content of 300 KiB spans many overflow pages.
        if (fields & kFieldContent) r.content = Binary(300 * 1024 + n, seed++);
        if (fields & kFieldContentHash) r.content_hash = Binary(32, seed++);
        if (fields & kFieldTargetComplete) {
          r.target_complete = Binary(150, seed++);
        }
        if (fields & kFieldConfirmation) r.confirmation = Binary(160, seed++);
        if (fields & kFieldAbortMessage) r.abort_message = Binary(70, seed++);
        if (fields & kFieldAbortAck) r.abort_ack = Binary(75, seed++);
        r.attempt_count = static_cast<int64_t>(n % 4);
        if (!IsTerminal(role, state)) {
          r.next_attempt_at = 1000 + static_cast<int64_t>(n);
        }
        if (n % 3 == 0) {
          r.lease_owner = "instance-" + std::to_string(n);
          r.lease_expires_at = 5000 + static_cast<int64_t>(n);
        }
        if (n % 2 == 0) r.last_error = "error " + std::to_string(n);
        if (n % 5 == 0) r.stalled_since = 700 + static_cast<int64_t>(n);
        r.created_at = 100 + static_cast<int64_t>(n);
        r.updated_at = 200 + static_cast<int64_t>(n);

        SQLite::Statement ins(
            db,
            "INSERT INTO migrations (id, role, state, group_id, epoch, "
            "ciphersuite, source_domain, target_domain, request, response, "
            "init_request, commit_message, content, content_hash, "
            "target_complete, confirmation, abort_message, abort_ack, "
            "attempt_count, next_attempt_at, lease_owner, lease_expires_at, "
            "last_error, stalled_since, created_at, updated_at) VALUES (?1, "
            "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
            "?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)");
        auto blob = [&](int i, const Bytes& b) {
          if (b.empty()) {
            ins.bind(i);
          } else {
            ins.bind(i, b.data(), static_cast<int>(b.size()));
          }
        };
        auto opt = [&](int i, const auto& v) {
          if (v) {
            ins.bind(i, *v);
          } else {
            ins.bind(i);
          }
        };
        ins.bind(1, r.id);
        ins.bind(2, std::string(RoleName(role)));
        ins.bind(3, std::string(StateName(state)));
        ins.bind(4, r.group_id.data(), static_cast<int>(r.group_id.size()));
        ins.bind(5, static_cast<int64_t>(r.epoch));
        ins.bind(6, static_cast<int>(r.ciphersuite));
        ins.bind(7, r.source_domain);
        ins.bind(8, r.target_domain);
        blob(9, r.request);
        blob(10, r.response);
        blob(11, r.init_request);
        blob(12, r.commit);
        blob(13, r.content);
        blob(14, r.content_hash);
        blob(15, r.target_complete);
        blob(16, r.confirmation);
        blob(17, r.abort_message);
        blob(18, r.abort_ack);
        ins.bind(19, r.attempt_count);
        opt(20, r.next_attempt_at);
        opt(21, r.lease_owner);
        opt(22, r.lease_expires_at);
        if (r.last_error.empty()) {
          ins.bind(23);
        } else {
          ins.bind(23, r.last_error);
        }
        opt(24, r.stalled_since);
        ins.bind(25, r.created_at);
        ins.bind(26, r.updated_at);
        ASSERT_EQ(ins.exec(), 1);
        for (MessageKind kind : kKinds) {
          messages_written += MessageOf(r, kind).empty() ? 0 : 1;
        }
        want.push_back(std::move(r));
      }
    }
    // Two DS groups: one frozen with a tree of several pages, one imported.
    SQLite::Statement g(
        db,
        "INSERT INTO ds_groups (group_id, cipher_suite, epoch, tree_epoch, "
        "ratchet_tree, group_info, frozen_by, imported_by, next_seq, "
        "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11)");
    for (int i = 0; i < 2; ++i) {
      const Bytes id = Binary(8 + i, static_cast<uint8_t>(200 + i));
      const Bytes tree = Binary(i == 0 ? 200 * 1024 : 3000, 50 + i);
      const Bytes info = Binary(i == 0 ? 9000 : 400, 60 + i);
      g.reset();
      g.bind(1, id.data(), static_cast<int>(id.size()));
      g.bind(2, 1 + i);
      g.bind(3, 40 + i);
      g.bind(4, 39 + i);
      g.bind(5, tree.data(), static_cast<int>(tree.size()));
      g.bind(6, info.data(), static_cast<int>(info.size()));
      if (i == 0) {
        g.bind(7, want[0].id);
        g.bind(8);
      } else {
        g.bind(7);
        g.bind(8, want.back().id);
      }
      g.bind(9, 11 + i);
      g.bind(10, 300 + i);
      g.bind(11, 400 + i);
      ASSERT_EQ(g.exec(), 1);
    }
  }

  FakeClock clock;
  auto store = SqliteStore::Open(path, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_EQ(*(*store)->ReadPragma("user_version"),
            std::to_string(LatestSchemaVersion()));
  for (const MigrationRecord& r : want) {
    SCOPED_TRACE(std::string(RoleName(r.role)) + " " +
                 std::string(StateName(r.state)));
    auto got = (*store)->GetWithMessages(r.id, r.role, kAllMessages);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == r);  // every column and message, byte for byte
    // And the rows alone, as every other read returns them.
    MigrationRecord bare = r;
    for (MessageKind kind : kKinds) MessageOf(bare, kind).clear();
    EXPECT_TRUE(*(*store)->Get(r.id, r.role) == bare);
  }
  EXPECT_EQ(want.size(), 11u);
  EXPECT_EQ(*(*store)->ReadPragma("integrity_check"), "ok");

  SQLite::Database raw(path, SQLite::OPEN_READWRITE);
  EXPECT_EQ(raw.execAndGet("SELECT COUNT(*) FROM migration_messages").getInt64(),
            messages_written);
  EXPECT_EQ(raw.execAndGet("SELECT COUNT(DISTINCT kind) FROM "
                           "migration_messages").getInt64(),
            9);
  EXPECT_FALSE(raw.execAndGet("SELECT COUNT(*) FROM pragma_foreign_key_check")
                   .getInt64());
  for (const char* column : kColumns) {
    EXPECT_FALSE(raw.execAndGet("SELECT COUNT(*) FROM pragma_table_info("
                                "'migrations') WHERE name = '" +
                                std::string(column) + "'")
                     .getInt64())
        << column;
  }
  // The DS groups, their mutable columns and their trees apart.
  SQLite::Statement groups(
      raw,
      "SELECT g.group_id, g.cipher_suite, g.epoch, t.tree_epoch, "
      "t.ratchet_tree, t.group_info, g.frozen_by, g.imported_by, g.next_seq, "
      "g.created_at, g.updated_at FROM ds_groups g JOIN ds_group_trees t "
      "USING (group_id) ORDER BY g.cipher_suite");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(groups.executeStep()) << i;
    auto bytes = [&](int c) {
      const auto* p = static_cast<const uint8_t*>(groups.getColumn(c).getBlob());
      return Bytes(p, p + groups.getColumn(c).getBytes());
    };
    EXPECT_EQ(bytes(0), Binary(8 + i, static_cast<uint8_t>(200 + i)));
    EXPECT_EQ(groups.getColumn(1).getInt(), 1 + i);
    EXPECT_EQ(groups.getColumn(2).getInt(), 40 + i);
    EXPECT_EQ(groups.getColumn(3).getInt(), 39 + i);
    EXPECT_EQ(bytes(4), Binary(i == 0 ? 200 * 1024 : 3000, 50 + i));
    EXPECT_EQ(bytes(5), Binary(i == 0 ? 9000 : 400, 60 + i));
    EXPECT_EQ(groups.getColumn(6).isNull(), i != 0);
    EXPECT_EQ(groups.getColumn(7).isNull(), i == 0);
    EXPECT_EQ(groups.getColumn(8).getInt(), 11 + i);
    EXPECT_EQ(groups.getColumn(9).getInt(), 300 + i);
    EXPECT_EQ(groups.getColumn(10).getInt(), 400 + i);
  }
  EXPECT_FALSE(groups.executeStep());
  EXPECT_FALSE(raw.execAndGet("SELECT COUNT(*) FROM pragma_table_info("
                              "'ds_groups') WHERE name IN ('tree_epoch', "
                              "'ratchet_tree', 'group_info')")
                   .getInt64());
  // Written once: neither rewritten nor deleted.
  EXPECT_THROW(raw.exec("UPDATE migration_messages SET body = x'00'"),
               SQLite::Exception);
  EXPECT_THROW(raw.exec("DELETE FROM migration_messages"), SQLite::Exception);
}

// Step 5 (lease holders) on a v4 database with rows in it: every row
// keeps every column, a lease taken before the step names no holder and
// lapses by expiry only (its process may be an old binary still running),
// and the new holders work on the upgraded file.
TEST(SchemaTest, UpgradeFromV4KeepsRowsAndLeavesOldLeasesToExpire) {
  TempDir dir;
  const std::string path = dir.File("v4.db");
  constexpr int64_t kNow = 1'000'000;
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(UpgradeSchema(db, 4).ok());
    ASSERT_EQ(*ReadSchemaVersion(db), 4);
    SQLite::Statement ins(
        db,
        "INSERT INTO migrations (id, role, state, group_id, epoch, "
        "ciphersuite, source_domain, target_domain, content_hash, "
        "attempt_count, next_attempt_at, lease_owner, lease_expires_at, "
        "last_error, stalled_since, created_at, updated_at) VALUES (?1, "
        "'source', ?2, ?3, 7, 1, 'a.example', 'b.example', ?4, ?5, ?6, ?7, "
        "?8, ?9, NULL, 100, 200)");
    for (int i = 1; i <= 3; ++i) {
      ins.bind(1, testing::MakeId(i, 4));
      ins.bind(2, i == 3 ? "purged" : "content-sent");
      const Bytes group = Binary(8, static_cast<uint8_t>(i));
      ins.bind(3, group.data(), static_cast<int>(group.size()));
      const Bytes hash = Binary(32, static_cast<uint8_t>(10 + i));
      ins.bind(4, hash.data(), static_cast<int>(hash.size()));
      ins.bind(5, i);
      if (i == 3) {
        ins.bind(6);
      } else {
        ins.bind(6, kNow - 10);
      }
      if (i == 1) {  // leased by a pre-step-5 process, for 10 minutes more
        ins.bind(7, "oldhost:99:0a0b0c0d0e0f#3");
        ins.bind(8, kNow + 600'000);
      } else {
        ins.bind(7);
        ins.bind(8);
      }
      ins.bind(9, "error " + std::to_string(i));
      ins.exec();
      ins.reset();
    }
    db.exec("INSERT INTO migration_messages (id, role, kind, body) VALUES ('" +
            testing::MakeId(1, 4) + "', 'source', 'commit', x'0102')");
  }
  FakeClock clock;
  clock.Set(kNow);
  auto store = SqliteStore::Open(path, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (int i = 1; i <= 3; ++i) {
    auto r = (*store)->Get(testing::MakeId(i, 4), Role::kSource);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->state, i == 3 ? MigrationState::kPurged
                               : MigrationState::kContentSent);
    EXPECT_EQ(r->group_id, Binary(8, static_cast<uint8_t>(i)));
    EXPECT_EQ(r->content_hash, Binary(32, static_cast<uint8_t>(10 + i)));
    EXPECT_EQ(r->attempt_count, i);
    EXPECT_EQ(r->last_error, "error " + std::to_string(i));
    EXPECT_EQ(r->created_at, 100);
    EXPECT_EQ(r->updated_at, 200);
    EXPECT_FALSE(r->lease_holder.has_value()) << "no holder before step 5";
    if (i == 1) {
      EXPECT_EQ(r->lease_owner, "oldhost:99:0a0b0c0d0e0f#3");
      EXPECT_EQ(r->lease_expires_at, kNow + 600'000);
    }
  }
  EXPECT_EQ(*(*store)->GetMessage(testing::MakeId(1, 4), Role::kSource,
                                  MessageKind::kCommit),
            (Bytes{1, 2}));
  EXPECT_TRUE((*store)->ListLeaseHolders()->empty());

  auto holder = (*store)->RegisterLeaseHolder("node-a", "h", 1, 6000);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  EXPECT_EQ(holder->holder_id, "node-a/1");
  auto reclaimed = (*store)->ReclaimDeadLeases("node-a/1");
  ASSERT_TRUE(reclaimed.ok());
  EXPECT_TRUE(reclaimed->empty()) << "an unknown holder is not known dead";
  auto due = (*store)->ListDue(10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, testing::MakeId(2, 4));
  clock.Advance(600'000);
  EXPECT_EQ((*store)->ListDue(10)->size(), 2u) << "the old lease lapsed";
}

TEST(SchemaTest, RefusesANewerDatabaseAndLeavesItUntouched) {
  TempDir dir;
  std::string path = dir.File("newer.db");
  {
    FakeClock clock;
    auto store = SqliteStore::Open(path, clock);
    ASSERT_TRUE(store.ok());
  }
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = " +
             std::to_string(LatestSchemaVersion() + 1));
  }
  std::string before = ReadTextFile(path);
  FakeClock clock;
  auto store = SqliteStore::Open(path, clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().detail().find("newer than this binary"),
            std::string::npos)
      << store.status().ToString();
  EXPECT_EQ(ReadTextFile(path), before);
}

TEST(SchemaTest, TwoConnectionsUpgradingAtOnceApplyEachStepOnce) {
  TempDir dir;
  std::string path = dir.File("both.db");
  FakeClock clock;
  Status a, b;
  std::thread t1([&] { a = SqliteStore::Open(path, clock).status(); });
  std::thread t2([&] { b = SqliteStore::Open(path, clock).status(); });
  t1.join();
  t2.join();
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  SQLite::Database check(path);
  EXPECT_EQ(*ReadSchemaVersion(check), LatestSchemaVersion());
}

// Many threads open (creating, switching to WAL, upgrading) fresh files at
// once, round after round; none may fail with "database is locked". Before
// opening took turns (store/open_lock.h), two at once failed in about half
// the runs.
TEST(SchemaTest, ManyThreadsOpeningFreshDatabasesAllSucceed) {
  TempDir dir;
  FakeClock clock;
  constexpr int kRounds = 40;
  constexpr int kThreads = 6;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir.File("fresh" + std::to_string(round) + ".db");
    std::vector<Status> results(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto store = SqliteStore::Open(path, clock);
        results[t] = store.status();
      });
    }
    for (std::thread& t : threads) t.join();
    for (const Status& r : results) {
      ASSERT_TRUE(r.ok()) << "round " << round << ": " << r.ToString();
    }
    SQLite::Database check(path);
    ASSERT_EQ(*ReadSchemaVersion(check), LatestSchemaVersion());
  }
}

// The same across processes, as mimi-portd and mimi-portctl meet on a new
// data directory: writers that create and upgrade the file and a read-only
// opener, all released at once. The read-only one may find no file yet, but
// never a half set-up one.
TEST(SchemaTest, ProcessesOpeningAFreshDatabaseTogetherAllSucceed) {
  TempDir dir;
  constexpr int kRounds = 25;
  const std::string ok = "ok " + std::to_string(LatestSchemaVersion()) + "\n";
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir.File("fresh" + std::to_string(round) + ".db");
    std::vector<std::unique_ptr<testing::Child>> children;
    for (const char* mode : {"rw", "rw", "rw", "ro"}) {
      children.push_back(std::make_unique<testing::Child>(
          std::vector<std::string>{MIMI_STORE_HELPER, "open", path, mode}));
      ASSERT_TRUE(children.back()->started());
    }
    for (auto& c : children) c->Send('g');
    for (size_t i = 0; i < children.size(); ++i) {
      children[i]->ReadToEnd();
      EXPECT_EQ(children[i]->Wait(), 0);
      const std::string& out = children[i]->buffer();
      if (i + 1 == children.size() && out.rfind("not-found", 0) == 0) continue;
      ASSERT_EQ(out, ok) << "round " << round << ", opener " << i;
    }
  }
}

TEST(SqliteStoreTest, OpensWithDurableSettings) {
  TempDir dir;
  FakeClock clock;
  auto store = SqliteStore::Open(
      dir.File("s.db"), clock,
      SqliteStoreOptions{.busy_timeout_ms = 1234, .vfs = ""});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->ReadPragma("journal_mode"), "wal");
  EXPECT_EQ(*(*store)->ReadPragma("synchronous"), "2");  // FULL
  EXPECT_EQ(*(*store)->ReadPragma("foreign_keys"), "1");
  EXPECT_EQ(*(*store)->ReadPragma("busy_timeout"), "1234");
  EXPECT_FALSE((*store)->ReadPragma("user_version; DROP TABLE x").ok());
}

TEST(SqliteStoreTest, EventLogRefusesUpdateAndDelete) {
  TempDir dir;
  std::string path = dir.File("s.db");
  FakeClock clock;
  auto store = SqliteStore::Open(path, clock);
  ASSERT_TRUE(store.ok());
  std::string id = testing::MakeId(1);
  ASSERT_TRUE((*store)
                  ->CreateSourceMigration(
                      testing::MakeRecord(id, Role::kSource, "g"), "created")
                  .ok());
  SQLite::Database raw(path, SQLite::OPEN_READWRITE);
  EXPECT_THROW(raw.exec("UPDATE migration_events SET detail = 'x'"),
               SQLite::Exception);
  EXPECT_THROW(raw.exec("DELETE FROM migration_events"), SQLite::Exception);
  auto events = (*store)->Events(id, Role::kSource);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().detail, "created");
}

TEST(SqliteStoreTest, UnopenableFileIsAStatusNotAnException) {
  TempDir dir;
  FakeClock clock;
  auto store = SqliteStore::Open(dir.File("no/such/dir/s.db"), clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
}

// ---- PostgreSQL: the same numbered history in its own dialect.

TEST(EmbeddedSqlTest, PostgresqlStepsMirrorTheSqliteStepsAndAreTheSourceFiles) {
  const auto& sqlite_steps = EmbeddedMigrations();
  const auto& pg_steps = EmbeddedPgMigrations();
  ASSERT_EQ(pg_steps.size(), sqlite_steps.size());
  for (size_t i = 0; i < pg_steps.size(); ++i) {
    EXPECT_EQ(pg_steps[i].version, sqlite_steps[i].version);
    EXPECT_EQ(pg_steps[i].name, sqlite_steps[i].name);
    EXPECT_EQ(pg_steps[i].sql,
              ReadTextFile(std::string(MIMI_SOURCE_DIR "/migrations/postgresql/") +
                           std::string(pg_steps[i].name) + ".sql"));
  }
}

// What both engines must agree on, in one text: each table's columns in
// order (with NOT NULL outside the primary key, where SQLite does not
// report it), each index created by a step (unique, partial, its columns),
// and each trigger. PostgreSQL's TRUNCATE triggers have no SQLite
// counterpart (SQLite has no TRUNCATE) and are left out.
std::string SqliteShape(SQLite::Database& db) {
  std::ostringstream out;
  SQLite::Statement tables(db,
                           "SELECT name FROM sqlite_master WHERE type = "
                           "'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  while (tables.executeStep()) {
    const std::string t = tables.getColumn(0).getString();
    out << "table " << t << ":";
    SQLite::Statement cols(db, "SELECT name, \"notnull\", pk FROM "
                               "pragma_table_info(?1) ORDER BY cid");
    cols.bind(1, t);
    while (cols.executeStep()) {
      out << " " << cols.getColumn(0).getString();
      if (cols.getColumn(2).getInt() == 0 && cols.getColumn(1).getInt() == 1) {
        out << "!";
      }
    }
    out << "\n";
  }
  SQLite::Statement indexes(db,
                            "SELECT name, tbl_name FROM sqlite_master WHERE "
                            "type = 'index' AND sql IS NOT NULL ORDER BY name");
  while (indexes.executeStep()) {
    const std::string name = indexes.getColumn(0).getString();
    const std::string table = indexes.getColumn(1).getString();
    SQLite::Statement flags(db, "SELECT \"unique\", partial FROM "
                                "pragma_index_list(?1) WHERE name = ?2");
    flags.bind(1, table);
    flags.bind(2, name);
    flags.executeStep();
    out << "index " << name << " on " << table << " unique="
        << flags.getColumn(0).getInt() << " partial="
        << flags.getColumn(1).getInt() << ":";
    SQLite::Statement cols(db, "SELECT name FROM pragma_index_info(?1) "
                               "ORDER BY seqno");
    cols.bind(1, name);
    while (cols.executeStep()) out << " " << cols.getColumn(0).getString();
    out << "\n";
  }
  SQLite::Statement triggers(db,
                             "SELECT name, tbl_name FROM sqlite_master WHERE "
                             "type = 'trigger' ORDER BY name");
  while (triggers.executeStep()) {
    out << "trigger " << triggers.getColumn(0).getString() << " on "
        << triggers.getColumn(1).getString() << "\n";
  }
  return out.str();
}

// The same description of a PostgreSQL schema, the connection's current
// one (the version table is the upgrade's own, not a step's).
std::string PgShape(store::pg::PgConnection& c) {
  std::ostringstream out;
  auto q = [&c](const std::string& sql) {
    auto r = c.Exec("describing the schema", sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  };
  store::pg::PgResult tables =
      q("SELECT table_name FROM information_schema.tables WHERE table_schema "
        "= current_schema() AND table_name <> 'mimi_schema_version' ORDER BY "
        "table_name COLLATE \"C\"");
  for (int i = 0; i < tables.rows(); ++i) {
    const std::string t = tables.Text(i, 0);
    out << "table " << t << ":";
    store::pg::PgResult cols = q(
        "SELECT c.column_name, c.is_nullable, EXISTS (SELECT 1 FROM pg_index "
        "x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY "
        "(x.indkey) WHERE x.indrelid = '" + t + "'::regclass AND "
        "x.indisprimary AND a.attname = c.column_name) FROM "
        "information_schema.columns c WHERE c.table_schema = current_schema() AND "
        "c.table_name = '" + t + "' ORDER BY c.ordinal_position");
    for (int j = 0; j < cols.rows(); ++j) {
      out << " " << cols.Text(j, 0);
      if (cols.Text(j, 2) == "f" && cols.Text(j, 1) == "NO") out << "!";
    }
    out << "\n";
  }
  store::pg::PgResult indexes = q(
      "SELECT ic.relname, tc.relname, x.indisunique, x.indpred IS NOT NULL, "
      "(SELECT string_agg(a.attname, ' ' ORDER BY k.ord) FROM "
      "unnest(x.indkey) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a "
      "ON a.attrelid = x.indrelid AND a.attnum = k.attnum) "
      "FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid "
      "JOIN pg_class tc ON tc.oid = x.indrelid JOIN pg_namespace n ON "
      "n.oid = tc.relnamespace WHERE n.nspname = current_schema() AND NOT EXISTS "
      "(SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) "
      "ORDER BY ic.relname COLLATE \"C\"");
  for (int i = 0; i < indexes.rows(); ++i) {
    out << "index " << indexes.Text(i, 0) << " on " << indexes.Text(i, 1)
        << " unique=" << (indexes.Text(i, 2) == "t") << " partial="
        << (indexes.Text(i, 3) == "t") << ": " << indexes.Text(i, 4) << "\n";
  }
  store::pg::PgResult triggers = q(
      "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON "
      "c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relnamespace = "
      "current_schema()::regnamespace AND t.tgname NOT LIKE "
      "'%\\_no\\_truncate' ORDER BY t.tgname COLLATE \"C\"");
  for (int i = 0; i < triggers.rows(); ++i) {
    out << "trigger " << triggers.Text(i, 0) << " on " << triggers.Text(i, 1)
        << "\n";
  }
  return out.str();
}

// A fresh schema on the test server for each test, with a connection.
class PgSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = ::mimi::testing::TestPgUrl();
    if (!url) GTEST_SKIP() << ::mimi::testing::kNoTestPgMessage;
    db_ = NewDatabase();
    ASSERT_NE(db_, nullptr);
    c_ = Connect(*db_);
    ASSERT_NE(c_, nullptr);
  }
  std::unique_ptr<::mimi::testing::PgTestSchema> NewDatabase() {
    auto db = ::mimi::testing::PgTestSchema::Create(
        *::mimi::testing::TestPgUrl());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  static std::unique_ptr<store::pg::PgConnection> Connect(
      const ::mimi::testing::PgTestSchema& db) {
    auto c = store::pg::PgConnection::Open({db.url(), "", 10});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  static store::pg::PgPoolOptions Options(
      const ::mimi::testing::PgTestSchema& db) {
    store::pg::PgPoolOptions o;
    o.connect.url = db.url();
    return o;
  }
  std::string Scalar(const std::string& sql) {
    auto r = c_->Exec("test query", sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->rows() > 0 ? r->Text(0, 0) : "";
  }

  std::unique_ptr<::mimi::testing::PgTestSchema> db_;
  std::unique_ptr<store::pg::PgConnection> c_;
};

TEST_F(PgSchemaTest, AllStepsReachTheTablesColumnsIndexesAndTriggersOfSqlite) {
  TempDir dir;
  SQLite::Database sqlite(dir.File("steps.db"),
                          SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  ASSERT_TRUE(UpgradeSchema(sqlite).ok());
  ASSERT_TRUE(store::pg::UpgradePgSchema(*c_).ok());
  EXPECT_EQ(*store::pg::ReadPgSchemaVersion(*c_), LatestSchemaVersion());
  const std::string expected = SqliteShape(sqlite);
  EXPECT_NE(expected.find("index migrations_one_active_source_per_group on "
                          "migrations unique=1 partial=1: group_id"),
            std::string::npos)
      << expected;
  EXPECT_EQ(PgShape(*c_), expected);
  // The PostgreSQL-only guards exist too.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM pg_trigger t JOIN pg_class c ON "
                   "c.oid = t.tgrelid WHERE c.relnamespace = "
                   "current_schema()::regnamespace AND t.tgname LIKE "
                   "'%\\_no\\_truncate'"),
            "2");
}

// Every older version upgrades to the same schema as a fresh database.
TEST_F(PgSchemaTest, EveryOlderVersionUpgradesToTheCurrentSchema) {
  ASSERT_TRUE(store::pg::UpgradePgSchema(*c_).ok());
  const std::string fresh = PgShape(*c_);
  for (int v = 0; v <= LatestSchemaVersion(); ++v) {
    auto db = NewDatabase();
    ASSERT_NE(db, nullptr);
    {
      auto c = Connect(*db);
      ASSERT_TRUE(store::pg::UpgradePgSchema(*c, v).ok());
      ASSERT_EQ(*store::pg::ReadPgSchemaVersion(*c), v);
    }
    FakeClock clock;
    auto store = store::pg::PgStore::Open(Options(*db), clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store->reset();
    auto c = Connect(*db);
    EXPECT_EQ(*store::pg::ReadPgSchemaVersion(*c), LatestSchemaVersion());
    EXPECT_EQ(PgShape(*c), fresh) << "from v" << v;
  }
}

// Step 4 moves the messages out of the rows and the DS's tree out of its
// group rows: byte for byte, a large content included.
TEST_F(PgSchemaTest, UpgradeFromV3MovesEveryMessageAndTreeByteForByte) {
  ASSERT_TRUE(store::pg::UpgradePgSchema(*c_, 3).ok());
  Bytes content(1 << 20);
  for (size_t i = 0; i < content.size(); ++i) {
    content[i] = static_cast<uint8_t>(i * 7 + (i >> 8));
  }
  const Bytes request = ToBytes("request\x00\xff bytes");
  const Bytes tree = ToBytes("tree");
  const Bytes info = ToBytes("group info");
  const std::string id = testing::MakeId(1);
  store::pg::PgParams p;
  p.Text(id).Blob(request).Blob(content);
  auto ins = c_->RunOnce(
      "v3 row",
      "INSERT INTO migrations (id, role, state, group_id, epoch, ciphersuite, "
      "source_domain, target_domain, request, content, content_hash, "
      "next_attempt_at, created_at, updated_at) VALUES ($1, 'source', "
      "'content-sent', '\\x6731', 7, 1, 's.example', 't.example', $2, $3, "
      "'\\x68', 5, 1, 2)",
      p);
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  store::pg::PgParams g;
  g.Blob(tree).Blob(info);
  auto ds = c_->RunOnce(
      "v3 group",
      "INSERT INTO ds_groups (group_id, cipher_suite, epoch, tree_epoch, "
      "ratchet_tree, group_info, next_seq, created_at, updated_at) VALUES "
      "('\\x6731', 1, 3, 3, $1, $2, 0, 1, 1)",
      g);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();

  FakeClock clock;
  auto store = store::pg::PgStore::Open(Options(*db_), clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto row = (*store)->GetWithMessages(id, Role::kSource, kAllMessages);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->state, MigrationState::kContentSent);
  EXPECT_EQ(row->request, request);
  EXPECT_EQ(row->content, content);
  EXPECT_EQ(row->content_hash, ToBytes("h"));
  EXPECT_TRUE(row->response.empty());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM migration_messages"), "2");
  auto trees = c_->RunOnce("trees",
                           "SELECT ratchet_tree, group_info, tree_epoch FROM "
                           "ds_group_trees");
  ASSERT_TRUE(trees.ok()) << trees.status().ToString();
  ASSERT_EQ(trees->rows(), 1);
  EXPECT_EQ(trees->Blob(0, 0), tree);
  EXPECT_EQ(trees->Blob(0, 1), info);
  EXPECT_EQ(trees->Int(0, 2), 3);
}

TEST_F(PgSchemaTest, RefusesANewerDatabaseAndLeavesItUntouched) {
  FakeClock clock;
  ASSERT_TRUE(store::pg::PgStore::Open(Options(*db_), clock).ok());
  const std::string newer = std::to_string(LatestSchemaVersion() + 1);
  ASSERT_TRUE(
      c_->Exec("bump", "UPDATE mimi_schema_version SET version = " + newer)
          .ok());
  const std::string before = PgShape(*c_);
  auto store = store::pg::PgStore::Open(Options(*db_), clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().detail().find("newer than this binary"),
            std::string::npos)
      << store.status().ToString();
  EXPECT_EQ(Scalar("SELECT version FROM mimi_schema_version"), newer);
  EXPECT_EQ(PgShape(*c_), before);
}

// Instances started together against one new database: each step is
// applied once (a second CREATE TABLE would fail the open).
TEST_F(PgSchemaTest, InstancesUpgradingAtOnceApplyEachStepOnce) {
  FakeClock clock;
  constexpr int kInstances = 4;
  std::vector<Status> results(kInstances);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      results[i] = store::pg::PgStore::Open(Options(*db_), clock).status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*store::pg::ReadPgSchemaVersion(*c_), LatestSchemaVersion());
}

TEST_F(PgSchemaTest, EventLogIsAppendOnlyAndMessagesAreWriteOnce) {
  FakeClock clock;
  auto store = store::pg::PgStore::Open(Options(*db_), clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string id = testing::MakeId(1);
  ASSERT_TRUE((*store)
                  ->CreateSourceMigration(
                      testing::MakeRecord(id, Role::kSource, "g"), "created")
                  .ok());
  for (const char* sql :
       {"UPDATE migration_events SET detail = 'x'",
        "DELETE FROM migration_events", "TRUNCATE migration_events CASCADE",
        "UPDATE migration_messages SET body = '\\x00'",
        "DELETE FROM migration_messages",
        "TRUNCATE migration_messages CASCADE"}) {
    auto r = c_->Exec("tampering", sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition)
        << sql << ": " << r.status().ToString();
  }
  auto events = (*store)->Events(id, Role::kSource);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().detail, "created");
  EXPECT_EQ(*(*store)->GetMessage(id, Role::kSource, MessageKind::kRequest),
            ToBytes("request:" + id));
}

}  // namespace
}  // namespace mimi::store
