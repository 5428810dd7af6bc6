// mimi-bench-store: store transitions per second at synchronous=FULL, beside
// the floor of the same disk in the same run (a bare loop of single-row
// INSERT + COMMIT with the same settings), and their ratio: from one thread
// (one commit per transition, as a lone caller sees it) and from N threads
// through one shared SqliteWriter, whose group commit lets concurrent
// transitions share fsyncs (sqlite_writer.h).
//
// Then the hot rows (docs/performance.md): the bookkeeping writes recovery
// makes on a row (lease taken, failure recorded, lease released) when the
// row's migration holds a large content, beside the same writes on a row
// without one, and the pages a Get and a List of it read against the
// content's own size in pages.
//
//   mimi-bench-store [--dir DIR] [--transitions N] [--threads N]
//                    [--max-batch N] [--content-mib N]
// DIR (default: the current directory) decides the disk measured; the files
// are removed afterwards. --max-batch 1 turns group commit off, for the
// figure without it. --content-mib (default 16) sizes the hot-row content.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "log/log.h"
#include "mimi_portability/clock.h"
#include "store/sqlite_store.h"
#include "store/sqlite_writer.h"

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
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000);
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

struct Run {
  double per_second = 0;
  SqliteWriterStats writer;  // for the run's transitions only
};

// Source migrations walked initiated -> content-sent -> target-complete ->
// confirmed -> purged: four transitions each, one job each, driven by
// `threads` threads (each its own migrations) through one store and so one
// writer. Creating the rows is not counted.
Result<Run> Transitions(const std::string& path, int n, int threads,
                        size_t max_batch) {
  RemoveDb(path);
  SqliteWriterOptions wo;
  wo.max_batch = max_batch;
  MIMI_ASSIGN_OR_RETURN(auto writer, SqliteWriter::Open(path, wo));
  MIMI_ASSIGN_OR_RETURN(auto store,
                        SqliteStore::Open(writer, SystemClock::Get()));
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
  TransitionData d1, d2, d3, d4;
  d1.content = blob;
  d1.content_hash = Bytes(32, 9);
  d2.target_complete = blob;
  d3.confirmation = blob;
  const std::tuple<S, S, const TransitionData*> steps[] = {
      {S::kInitiated, S::kContentSent, &d1},
      {S::kContentSent, S::kTargetComplete, &d2},
      {S::kTargetComplete, S::kConfirmed, &d3},
      {S::kConfirmed, S::kPurged, &d4}};
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex error_mu;
  SqliteWriterStats before = writer->Stats();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = t; i < migrations && !failed; i += threads) {
        std::string id = Id(i);
        for (const auto& [from, to, data] : steps) {
          auto out = store->Transition(id, Role::kSource, from, to, *data);
          if (!out.ok()) {
            std::lock_guard lock(error_mu);
            if (!failed.exchange(true)) first_error = out.status();
            return;
          }
          done.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  double s = Seconds(std::chrono::steady_clock::now() - start).count();
  if (failed) return first_error;
  SqliteWriterStats after = writer->Stats();
  Run run;
  run.per_second = done / s;
  run.writer.jobs = after.jobs - before.jobs;
  run.writer.commits = after.commits - before.commits;
  run.writer.largest_batch = after.largest_batch;
  return run;
}

struct HotRows {
  double ms_per_write_large = 0;  // on the row holding the content
  double ms_per_write_small = 0;  // on a row without content
  int64_t get_pages = 0;
  int64_t list_pages = 0;
  int64_t content_pages = 0;
};

// `rounds` x (AcquireLease, RecordFailure, ReleaseLease) on one row; ms per
// write.
Result<double> Bookkeeping(SqliteStore& store, const std::string& id,
                           int rounds) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    MIMI_RETURN_IF_ERROR(store.AcquireLease(id, Role::kSource, "bench", 60000));
    MIMI_RETURN_IF_ERROR(
        store.RecordFailure(id, Role::kSource, "bench", 1, false));
    MIMI_RETURN_IF_ERROR(store.ReleaseLease(id, Role::kSource, "bench"));
  }
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
             .count() /
         (3.0 * rounds);
}

Result<HotRows> MeasureHotRows(const std::string& path, size_t content_bytes) {
  RemoveDb(path);
  MIMI_ASSIGN_OR_RETURN(auto store,
                        SqliteStore::Open(path, SystemClock::Get()));
  TransitionData sent;
  sent.content = Bytes(content_bytes, 7);
  sent.content_hash = Bytes(32, 9);
  for (int i = 0; i < 2; ++i) {
    MigrationRecord r;
    r.id = Id(i);
    r.group_id = Bytes(16, static_cast<uint8_t>(i));
    r.source_domain = "a.example";
    r.target_domain = "b.example";
    r.request = Bytes(80, 1);
    MIMI_RETURN_IF_ERROR(store->CreateSourceMigration(r, "bench"));
  }
  MIMI_RETURN_IF_ERROR(store
                           ->Transition(Id(0), Role::kSource,
                                        MigrationState::kInitiated,
                                        MigrationState::kContentSent, sent)
                           .status());
  constexpr int kRounds = 10;
  HotRows h;
  MIMI_ASSIGN_OR_RETURN(h.ms_per_write_large,
                        Bookkeeping(*store, Id(0), kRounds));
  MIMI_ASSIGN_OR_RETURN(h.ms_per_write_small,
                        Bookkeeping(*store, Id(1), kRounds));
  MIMI_ASSIGN_OR_RETURN(std::string page_size, store->ReadPragma("page_size"));
  h.content_pages = static_cast<int64_t>(content_bytes) / std::stoll(page_size);
  MIMI_ASSIGN_OR_RETURN(int64_t before, store->PagesReadForTesting());
  MIMI_RETURN_IF_ERROR(store->Get(Id(0), Role::kSource).status());
  MIMI_ASSIGN_OR_RETURN(int64_t after_get, store->PagesReadForTesting());
  MIMI_RETURN_IF_ERROR(store->List(ListFilter{}).status());
  MIMI_ASSIGN_OR_RETURN(int64_t after_list, store->PagesReadForTesting());
  h.get_pages = after_get - before;
  h.list_pages = after_list - after_get;
  return h;
}

int Main(int argc, char** argv) {
  // A line per row moved (log/log.h) would time the terminal, not this.
  log::SetLevel(log::Level::kWarn);
  std::string dir = ".";
  int n = 2000;
  int threads = 16;
  size_t max_batch = SqliteWriterOptions{}.max_batch;
  int content_mib = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--transitions") {
      n = std::stoi(argv[i + 1]);
    } else if (flag == "--threads") {
      threads = std::max(1, std::stoi(argv[i + 1]));
    } else if (flag == "--max-batch") {
      max_batch = static_cast<size_t>(std::max(1, std::stoi(argv[i + 1])));
    } else if (flag == "--content-mib") {
      content_mib = std::max(1, std::stoi(argv[i + 1]));
    } else {
      std::fprintf(stderr,
                   "usage: mimi-bench-store [--dir DIR] [--transitions N] "
                   "[--threads N] [--max-batch N] [--content-mib N]\n");
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
  auto single = Transitions(base + "-store.db", n, 1, max_batch);
  auto many = single.ok()
                  ? Transitions(base + "-store.db", n, threads, max_batch)
                  : single;
  Result<HotRows> hot =
      many.ok() ? MeasureHotRows(base + "-hot.db",
                                 static_cast<size_t>(content_mib) << 20)
                : Result<HotRows>(many.status());
  RemoveDb(base + "-floor.db");
  RemoveDb(base + "-store.db");
  RemoveDb(base + "-hot.db");
  for (const auto* r : {&single, &many}) {
    if (!r->ok()) {
      std::fprintf(stderr, "store: %s\n", r->status().ToString().c_str());
      return 1;
    }
  }
  if (!hot.ok()) {
    std::fprintf(stderr, "hot rows: %s\n", hot.status().ToString().c_str());
    return 1;
  }
  std::printf(
      "store benchmark: %d commits/transitions each, WAL, synchronous=FULL, "
      "max batch %zu, %u cores, in %s\n",
      n, max_batch, std::thread::hardware_concurrency(),
      std::filesystem::absolute(dir).c_str());
  std::printf("  %-46s %10.0f /s\n", "floor (single-row INSERT + COMMIT)",
              floor_tps);
  std::printf("  %-46s %10.0f /s\n",
              "store transitions, 1 thread (CAS+event+data)",
              single->per_second);
  std::printf("  %-46s %10.2f\n", "ratio 1 thread / floor",
              single->per_second / floor_tps);
  std::string label =
      "store transitions, " + std::to_string(threads) + " threads";
  std::printf("  %-46s %10.0f /s\n", label.c_str(), many->per_second);
  std::printf("  %-46s %10.2f\n",
              ("ratio " + std::to_string(threads) + " threads / floor").c_str(),
              many->per_second / floor_tps);
  std::printf(
      "  %-46s %10.2f\n",
      ("ratio " + std::to_string(threads) + " threads / 1 thread").c_str(),
      many->per_second / single->per_second);
  std::printf("  %-46s %10.1f (%llu jobs in %llu commits, largest %llu)\n",
              "transitions per commit",
              many->writer.commits ? static_cast<double>(many->writer.jobs) /
                                         many->writer.commits
                                   : 0.0,
              static_cast<unsigned long long>(many->writer.jobs),
              static_cast<unsigned long long>(many->writer.commits),
              static_cast<unsigned long long>(many->writer.largest_batch));
  std::printf("hot rows: one migration holding a %d MiB content\n",
              content_mib);
  std::printf("  %-46s %10.2f ms\n", "lease/failure/release write, that row",
              hot->ms_per_write_large);
  std::printf("  %-46s %10.2f ms\n", "the same on a row without content",
              hot->ms_per_write_small);
  std::printf("  %-46s %10.2f\n", "ratio",
              hot->ms_per_write_small > 0
                  ? hot->ms_per_write_large / hot->ms_per_write_small
                  : 0.0);
  std::printf("  %-46s %10lld (the content is %lld)\n",
              "pages read by Get of that row",
              static_cast<long long>(hot->get_pages),
              static_cast<long long>(hot->content_pages));
  std::printf("  %-46s %10lld\n", "pages read by List (both rows)",
              static_cast<long long>(hot->list_pages));
  return 0;
}

}  // namespace
}  // namespace mimi::store

int main(int argc, char** argv) { return mimi::store::Main(argc, argv); }
