// mimi-bench-store: store transitions per second at synchronous=FULL, beside
// the floor of the same disk in the same run (a bare loop of single-row
// INSERT + COMMIT with the same settings), and their ratio.
//
//   mimi-bench-store [--dir DIR] [--transitions N]
// DIR (default: the current directory) decides the disk measured; the files
// are removed afterwards.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "mimi_portability/clock.h"
#include "store/sqlite_store.h"

namespace mimi::store {
namespace {

using Seconds = std::chrono::duration<double>;

std::string Id(int n) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", n);
  return buf;
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
}

double Floor(const std::string& path, int n) {
  RemoveDb(path);
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                      5000);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  SQLite::Statement ins(db, "INSERT INTO t (v) VALUES (?1)");
  const char payload[64] = {};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    ins.bind(1, payload, sizeof payload);
    ins.exec();
    ins.reset();
    tx.commit();
  }
  double s = Seconds(std::chrono::steady_clock::now() - start).count();
  return n / s;
}

// Source migrations walked initiated -> content-sent -> target-complete ->
// confirmed -> purged: four transitions each, one per commit. Creating the
// rows is not counted.
Result<double> Transitions(const std::string& path, int n) {
  RemoveDb(path);
  MIMI_ASSIGN_OR_RETURN(auto store,
                        SqliteStore::Open(path, SystemClock::Get()));
  int migrations = (n + 3) / 4;
  for (int i = 0; i < migrations; ++i) {
    MigrationRecord r;
    r.id = Id(i);
    r.group_id = Bytes(16, static_cast<uint8_t>(i));
    r.group_id[0] = static_cast<uint8_t>(i >> 8);
    r.group_id[1] = static_cast<uint8_t>(i >> 16);
    r.source_domain = "a.example";
    r.target_domain = "b.example";
    r.request = Bytes(80, 1);
    MIMI_RETURN_IF_ERROR(store->CreateSourceMigration(r, "bench"));
  }
  using S = MigrationState;
  const Bytes blob(64, 7);
  auto start = std::chrono::steady_clock::now();
  int done = 0;
  for (int i = 0; i < migrations; ++i) {
    std::string id = Id(i);
    TransitionData d1, d2, d3, d4;
    d1.content = blob;
    d1.content_hash = Bytes(32, 9);
    d2.target_complete = blob;
    d3.confirmation = blob;
    for (auto [from, to, data] :
         {std::tuple{S::kInitiated, S::kContentSent, &d1},
          std::tuple{S::kContentSent, S::kTargetComplete, &d2},
          std::tuple{S::kTargetComplete, S::kConfirmed, &d3},
          std::tuple{S::kConfirmed, S::kPurged, &d4}}) {
      auto out = store->Transition(id, Role::kSource, from, to, *data);
      if (!out.ok()) return out.status();
      ++done;
    }
  }
  double s = Seconds(std::chrono::steady_clock::now() - start).count();
  return done / s;
}

int Main(int argc, char** argv) {
  std::string dir = ".";
  int n = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--transitions") {
      n = std::stoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: mimi-bench-store [--dir DIR] "
                           "[--transitions N]\n");
      return 2;
    }
  }
  std::string base = dir + "/mimi-bench-store-" + std::to_string(getpid());
  double floor_tps = 0;
  try {
    floor_tps = Floor(base + "-floor.db", n);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "floor: %s\n", e.what());
    return 1;
  }
  auto store_tps = Transitions(base + "-store.db", n);
  RemoveDb(base + "-floor.db");
  RemoveDb(base + "-store.db");
  if (!store_tps.ok()) {
    std::fprintf(stderr, "store: %s\n", store_tps.status().ToString().c_str());
    return 1;
  }
  std::printf("store benchmark: %d commits each, WAL, synchronous=FULL, in %s\n",
              n, std::filesystem::absolute(dir).c_str());
  std::printf("  %-44s %10.0f /s\n", "floor (single-row INSERT + COMMIT)",
              floor_tps);
  std::printf("  %-44s %10.0f /s\n", "store transitions (CAS + event + data)",
              *store_tps);
  std::printf("  %-44s %10.2f\n", "ratio store / floor", *store_tps / floor_tps);
  return 0;
}

}  // namespace
}  // namespace mimi::store

int main(int argc, char** argv) { return mimi::store::Main(argc, argv); }
