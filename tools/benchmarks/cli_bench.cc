// mimi-bench-cli: how long an operator waits for `mimi-portctl list` and
// `mimi-portctl status ID` on a database of 100,000 migration rows (issue
// target: p99 < 50 ms), as real process invocations (fork + exec + wait),
// with the daemon running (admin API) and stopped (read-only database
// fallback). Baseline beside each: `mimi-portctl --help`, the same binary
// starting and exiting without touching a daemon or a database, so that
// process start is visible; /bin/true is printed as the floor of fork+exec.
// The invocations are interleaved round-robin so that noise from other
// jobs on the machine falls on the figures and their baseline alike.
//
//   mimi-bench-cli [--dir DIR] [--rows N] [--runs R] [--build DIR]
//
// Setup (not measured, printed): the rows are written through the Store API
// (SqliteStore: one transaction per create and per transition, as the daemon
// writes them) into a database on /dev/shm, where fsync costs nothing, and
// the finished file is copied into DIR; a mix of roles and states like a DS
// that has run for a while (mostly finished rows). DIR (default: the current
// directory) decides the disk measured; everything is removed afterwards.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "log/log.h"
#include "mimi_portability/clock.h"
#include "store/sqlite_store.h"
#include "testing/loopback_port.h"
#include "testing/test_ca.h"

namespace mimi::bench {
namespace {

namespace fs = std::filesystem;
using store::MigrationState;
using store::Role;
using S = MigrationState;

std::string Id(int n) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%056x%08x", 0x5eed, n);
  return buf;
}

// Row n's role and the states it walks through (after creation).
struct Plan {
  Role role;
  std::vector<S> path;
};

Plan PlanFor(int n) {
  // Per 100 rows: 40 target imported, 20 target expired, 2 target requested,
  // 30 source purged, 4 source content-sent, 4 source initiated.
  const int k = n % 100;
  if (k < 40) return {Role::kTarget, {S::kImported}};
  if (k < 60) return {Role::kTarget, {S::kExpired}};
  if (k < 62) return {Role::kTarget, {}};
  if (k < 92) {
    return {Role::kSource,
            {S::kContentSent, S::kTargetComplete, S::kConfirmed, S::kPurged}};
  }
  if (k < 96) return {Role::kSource, {S::kContentSent}};
  return {Role::kSource, {}};
}

// Rows n = first, first + step, ... of the seed (one thread's share).
Status SeedShare(store::SqliteStore* st, int rows, int first, int step) {
  const Bytes blob(200, 7);
  for (int n = first; n < rows; n += step) {
    const Plan plan = PlanFor(n);
    store::MigrationRecord r;
    r.id = Id(n);
    r.role = plan.role;
    r.group_id = ToBytes("bench-group-" + std::to_string(n));
    r.epoch = 5;
    r.ciphersuite = 1;
    r.source_domain = plan.role == Role::kSource ? "cli.test" : "peer.test";
    r.target_domain = plan.role == Role::kSource ? "peer.test" : "cli.test";
    r.request = Bytes(90, 1);
    r.response = Bytes(180, 2);
    if (plan.role == Role::kSource) {
      r.init_request = Bytes(600, 3);
      r.commit = Bytes(300, 4);
      MIMI_RETURN_IF_ERROR(st->CreateSourceMigration(r, "bench"));
    } else {
      MIMI_RETURN_IF_ERROR(st->CreateTargetMigration(
          r, SystemClock::Get().NowMillis() + 600'000, "bench"));
    }
    S from = plan.role == Role::kSource ? S::kInitiated : S::kRequested;
    for (S to : plan.path) {
      store::TransitionData d;
      if (to == S::kContentSent || to == S::kImported) {
        d.content = blob;
        d.content_hash = Bytes(32, 9);
      }
      if (to == S::kTargetComplete || to == S::kImported) {
        d.target_complete = Bytes(150, 5);
      }
      if (to == S::kConfirmed) d.confirmation = Bytes(150, 6);
      MIMI_RETURN_IF_ERROR(st->Transition(r.id, plan.role, from, to, d).status());
      from = to;
    }
  }
  return Status::Ok();
}

// Seeds from 8 threads so that the store's group commit batches the writes
// (one thread took 100-150 s for 100,000 rows, most of a `tools/bench all`).
Status Seed(const std::string& path, int rows) {
  MIMI_ASSIGN_OR_RETURN(auto st,
                        store::SqliteStore::Open(path, SystemClock::Get()));
  constexpr int kThreads = 8;
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { results[t] = SeedShare(st.get(), rows, t, kThreads); });
  }
  for (auto& t : threads) t.join();
  for (const Status& r : results) MIMI_RETURN_IF_ERROR(r);
  return Status::Ok();
}

struct Case {
  std::string name;
  std::vector<std::string> argv;  // "{id}" is replaced by a random row id
  std::vector<double> ms;
};

Status RunRounds(std::vector<Case>& cases, int runs, int rows,
                 std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(0, rows - 1);
  for (int i = 0; i < runs; ++i) {
    for (Case& c : cases) {
      std::vector<std::string> argv = c.argv;
      for (auto& a : argv) {
        if (a != "{id}") continue;
        // Not an expired row: status exits 1 for those.
        int n = pick(rng);
        while (n % 100 >= 40 && n % 100 < 60) n = pick(rng);
        a = Id(n);
      }
      MIMI_ASSIGN_OR_RETURN(double ms, TimeRun(argv));
      c.ms.push_back(ms);
    }
  }
  return Status::Ok();
}

int Main(int argc, char** argv) {
  // A line per row moved (log/log.h) would time the terminal, not this.
  log::SetLevel(log::Level::kWarn);
  std::string dir = ".";
  fs::path build = BuildDirOfSelf();
  int rows = 100'000;
  int runs = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--rows") {
      rows = std::stoi(argv[i + 1]);
    } else if (flag == "--runs") {
      runs = std::stoi(argv[i + 1]);
    } else if (flag == "--build") {
      build = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: mimi-bench-cli [--dir DIR] [--rows N] "
                           "[--runs R] [--build DIR]\n");
      return 2;
    }
  }
  const fs::path portd = build / "coordinator" / "mimi-portd";
  const std::string portctl = (build / "tools" / "mimi-portctl").string();
  std::string tmpl = (fs::absolute(dir) / "mimi-bench-cli-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path work = tmpl;
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{work};
  const fs::path data = work / "data";
  fs::create_directories(data);
  fs::permissions(data, fs::perms::owner_all, fs::perm_options::replace);

  // --- Setup: rows through the Store API on tmpfs, then the file here. ---
  const auto seed_start = std::chrono::steady_clock::now();
  const std::string shm = "/dev/shm/mimi-bench-cli-" + std::to_string(getpid()) + ".db";
  Status seeded = Seed(shm, rows);
  if (!seeded.ok()) {
    std::fprintf(stderr, "seeding: %s\n", seeded.ToString().c_str());
    return 1;
  }
  fs::copy_file(shm, data / "mimi.db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    fs::remove(shm + suffix, ec);
  }
  const double seed_ms = MillisSince(seed_start);

  auto ca = testing::TestCa::Create(work);
  if (!ca.ok()) {
    std::fprintf(stderr, "ca: %s\n", ca.status().ToString().c_str());
    return 1;
  }
  auto leaf = ca->IssueLeaf("cli.test", {"cli.test"});
  if (!leaf.ok()) {
    std::fprintf(stderr, "leaf: %s\n", leaf.status().ToString().c_str());
    return 1;
  }
  const fs::path config = work / "portd.toml";
  {
    std::ofstream out(config);
    out << "domain = \"cli.test\"\n"
        << "listen = \"127.0.0.1:" << testing::StableLoopbackPort() << "\"\n"
        << "admin_listen = \"127.0.0.1:0\"\n"
        << "data_dir = \"" << data.string() << "\"\n"
        << "log_level = \"warn\"\n"
        << "[tls]\ncert = \"" << leaf->cert_path.string() << "\"\nkey = \""
        << leaf->key_path.string() << "\"\n";
  }
  PortdChild daemon(portd, config, data, work / "portd.log");
  if (Status s = daemon.Start(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("cli benchmark: %d rows (seeded through the Store API on tmpfs in "
              "%.1f s, not measured), %d runs per command, database in %s\n",
              rows, seed_ms / 1000, runs, fs::absolute(dir).c_str());

  const std::string dd = "--data-dir=" + data.string();
  std::vector<Case> up = {
      {"/bin/true", {"/bin/true"}, {}},
      {"mimi-portctl --help", {portctl, "--help"}, {}},
      {"list", {portctl, "list", dd}, {}},
      {"list --state purged", {portctl, "list", dd, "--state", "purged"}, {}},
      {"list --role target", {portctl, "list", dd, "--role", "target"}, {}},
      {"list --state initiated --role source",
       {portctl, "list", dd, "--state", "initiated", "--role", "source"}, {}},
      {"status ID", {portctl, "status", dd, "{id}"}, {}},
  };
  std::mt19937 rng(42);
  if (Status s = RunRounds(up, runs, rows, rng); !s.ok()) {
    std::fprintf(stderr, "daemon up: %s\n", s.ToString().c_str());
    return 1;
  }
  daemon.Terminate();
  std::vector<Case> down = {
      {"mimi-portctl --help", {portctl, "--help"}, {}},
      {"list (daemon down)", {portctl, "list", dd}, {}},
      {"list --role target (daemon down)", {portctl, "list", dd, "--role", "target"}, {}},
      {"status ID (daemon down)", {portctl, "status", dd, "{id}"}, {}},
  };
  if (Status s = RunRounds(down, runs, rows, rng); !s.ok()) {
    std::fprintf(stderr, "daemon down: %s\n", s.ToString().c_str());
    return 1;
  }

  std::vector<Row> table;
  auto add = [&](const Case& c, const Case& base) {
    for (auto [label, p] : {std::pair{"p50", 50.0}, std::pair{"p99", 99.0},
                            std::pair{"max", 100.0}}) {
      Row r;
      r.figure = c.name + " " + label;
      r.value = Percentile(c.ms, p);
      r.unit = "ms";
      r.baseline_name = base.name + " " + label;
      r.baseline = Percentile(base.ms, p);
      if (std::string(label) == "p99" && c.name != base.name &&
          c.name != "/bin/true") {
        r.target = "< 50 ms";
        r.met = r.value < 50 ? 1 : 0;
      }
      table.push_back(r);
    }
  };
  add(up[0], up[0]);
  for (size_t i = 2; i < up.size(); ++i) add(up[i], up[1]);
  for (size_t i = 1; i < down.size(); ++i) add(down[i], down[0]);
  PrintTable("cli",
             "process invocations (fork+exec+wait); baseline = mimi-portctl "
             "--help in the same rounds (process start, no daemon, no DB)",
             table);
  return 0;
}

}  // namespace
}  // namespace mimi::bench

int main(int argc, char** argv) { return mimi::bench::Main(argc, argv); }
