// mimi-bench-recovery: how fast a restarted mimi-portd takes up and finishes
// a backlog of unfinished migrations left by kill -9 (issue target: every
// row rescheduled within 2 s of the restart).
//
//   mimi-bench-recovery [--dir DIR] [--migrations N] [--baseline K]
//                       [--threads T] [--mix-ms MS] [--build DIR]
//                       [--lease-ms MS] [--crash-only]
//
// Two real mimi-portd processes, source.test and target.test, speak verified
// HTTPS on loopback with certificates of a throw-away CA; both use the
// embedded DS. The benchmark is the members' client:
//  1. over HTTP, N + K groups are created at the source (/ds/v1/groups,
//     synthetic 3-member groups) and a MigrationResponse is asked from the
//     target for each (MigrationRequest with a client token); member 1 signs
//     the MigrationInit.
//  2. K of them are migrated on the normal path (POST init at the source,
//     reposted on 202 until 200): the baseline throughput.
//  3. The source is stopped and the target killed (-9). The N inits are
//     *seeded with the library*: each row is written through the Store API
//     exactly as the source's init handler persists it after its checks
//     (state `initiated`; the group is frozen by the first drive). Posting
//     them over HTTP is not an option for N = 10,000: with the target
//     unreachable every init holds a server thread for the init wait (5 s).
//  4. The source is started with the target still down (rows move to
//     content-sent and fail their send, with back-off), the target comes
//     back half-way, and the source is killed with SIGKILL: the rows are
//     left at mixed states, printed.
//  5. The benchmark waits until every unfinished row is due (back-off and
//     the dead process's leases lapsed) and times the baseline: one bare
//     SELECT of all those rows (Store::ListDue) in this process.
//  6. The source is restarted. "Rescheduled" = the recovery loop's first
//     scan after start has ended: every row due at that scan has been taken
//     up (put on the loop's queue; each is then driven in order). The daemon
//     logs "recovery: first scan took up N due migrations"; the time is
//     from the spawn of the process to that line in its log (polled every
//     2 ms), so it includes start-up. "Finished" = no source row left in a
//     non-terminal state (all purged), polled every 100 ms in the database.
//  7. Kill -9 while holding a lease (issue 21): the source is started with
//     the failpoint source.after_send_content=crash and one more migration is
//     posted; the process dies holding that row's lease (recovery.lease_ms =
//     --lease-ms, default the daemon's 120000) after the target imported the
//     group, which then waits for the source. It is restarted at once,
//     and the time from the spawn to the migration's next transition (its
//     first event after the restart, polled every 5 ms in the database) is
//     printed: with the dead incarnation's lease taken over by the first
//     scan, and beside it the same with recovery.reclaim_dead_leases = false,
//     which waits out the lease as every version before lease holders did.
//     --crash-only runs this step alone (no backlog).
// DIR (default: the current directory) holds the databases; everything is
// removed afterwards.
#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "crypto/signing_key.h"
#include "log/log.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/endpoints.h"
#include "mimi_portability/messages.h"
#include "store/sqlite_store.h"
#include "testing/ds_member.h"
#include "testing/synthetic_mls.h"

namespace mimi::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

constexpr uint64_t kEpoch = 5;
constexpr uint16_t kSuite = 1;
using endpoints::kInitPath;
using endpoints::kMediaType;
using endpoints::kRequestPath;

struct Migration {
  Bytes group_id;
  Bytes commit;
  Bytes request, response, init_body;
  std::string id;
};

using Setup = PortdPair;

std::unique_ptr<httplib::Client> ClientFor(const Setup& s, uint16_t port) {
  return PairClient(s, port);
}

// The default scan interval; a back-off ceiling and lease short enough that
// the rows of a killed process are all due again within seconds.
constexpr char kSections[] =
    "[policy]\nresponse_ttl_seconds = 7200\n"
    "[recovery]\nscan_interval_ms = 1000\nbackoff_initial_ms = 200\n"
    "backoff_max_ms = 2000\nlease_ms = 5000\nmax_attempts = 1000\n";

// Creates groups [begin, end) at the source and asks the target for their
// responses; signs the inits.
Status Prepare(const Setup& s, std::vector<Migration>& all,
               std::atomic<size_t>& next) {
  MIMI_ASSIGN_OR_RETURN(auto cs, crypto::LookupCipherSuite(kSuite));
  std::vector<crypto::SigningKey> keys;
  std::vector<testing::SyntheticMember> members;
  for (const char* name : {"alice", "bob", "carol"}) {
    MIMI_ASSIGN_OR_RETURN(auto key,
                          crypto::SigningKey::Generate(cs.signature_scheme));
    members.push_back({name, key.public_key().encoded()});
    keys.push_back(std::move(key));
  }
  const Bytes tree = testing::SyntheticRatchetTree(kSuite, members);
  MIMI_ASSIGN_OR_RETURN(Bytes aad,
                        Encode(MigrationCommitAAD{ToBytes("target.test")}));
  auto source = ClientFor(s, s.source_port);
  auto target = ClientFor(s, s.target_port);
  for (size_t i = next++; i < all.size(); i = next++) {
    Migration& m = all[i];
    m.group_id = ToBytes("bench-recovery-" + std::to_string(i));
    m.commit = testing::SyntheticPublicCommit(m.group_id, kEpoch, 1, aad);
    json create = {
        {"group_info",
         ToHex(testing::SyntheticGroupInfo(kSuite, m.group_id, kEpoch, tree, 0, keys[0]))},
        {"ratchet_tree", ToHex(tree)}};
    auto g = source->Post("/ds/v1/groups",
                          testing::ClientTokenHeaders(s.source_token),
                          mimi::codec::DumpJson(create), "application/json");
    if (!g || g->status != 201) {
      return InternalError("create group: " +
                           (g ? std::to_string(g->status) + " " + g->body
                              : httplib::to_string(g.error())));
    }
    MigrationRequest request{ToBytes("source.test"), ToBytes("target.test"),
                             m.group_id, kEpoch};
    MIMI_ASSIGN_OR_RETURN(m.request, Encode(request));
    auto r = target->Post(
        kRequestPath,
        {{"MIMI-Cipher-Suite", std::to_string(kSuite)},
         {"Authorization", "Bearer " + s.token}},
        reinterpret_cast<const char*>(m.request.data()), m.request.size(), kMediaType);
    if (!r || r->status != 200) {
      return InternalError("request: " + (r ? std::to_string(r->status) + " " + r->body
                                            : httplib::to_string(r.error())));
    }
    m.response = ToBytes(r->body);
    MIMI_ASSIGN_OR_RETURN(auto response, Decode<MigrationResponse>(m.response));
    MigrationInit init{response, {}};
    MIMI_RETURN_IF_ERROR(crypto::SignMessage(keys[1], &init));
    m.id = ToHex(response.nonce);
    MIMI_ASSIGN_OR_RETURN(m.init_body,
                          Encode(MigrationInitRequest{init, 1, m.commit}));
  }
  return Status::Ok();
}

// The normal path: POST init until it answers 200 (confirmed).
Status MigrateNormally(const Setup& s, std::vector<Migration>& all,
                       size_t begin, size_t end, std::atomic<size_t>& next) {
  auto source = ClientFor(s, s.source_port);
  for (size_t i = begin + next++; i < end; i = begin + next++) {
    const Migration& m = all[i];
    for (int attempt = 0;; ++attempt) {
      auto r = source->Post(kInitPath,
                            reinterpret_cast<const char*>(m.init_body.data()),
                            m.init_body.size(), kMediaType);
      if (r && r->status == 200) break;
      if (attempt > 100 || (r && r->status != 202)) {
        return InternalError("init: " + (r ? std::to_string(r->status) + " " + r->body
                                           : httplib::to_string(r.error())));
      }
    }
  }
  return Status::Ok();
}

// Writes the source row of each migration as the init handler does after
// its checks pass (store.CreateSourceMigration in `initiated`).
Status SeedInitiated(const std::string& db, const std::vector<Migration>& all,
                     size_t count) {
  MIMI_ASSIGN_OR_RETURN(auto st, store::SqliteStore::Open(db, SystemClock::Get()));
  for (size_t i = 0; i < count; ++i) {
    const Migration& m = all[i];
    store::MigrationRecord row;
    row.id = m.id;
    row.role = store::Role::kSource;
    row.group_id = m.group_id;
    row.epoch = kEpoch;
    row.ciphersuite = kSuite;
    row.source_domain = "source.test";
    row.target_domain = "target.test";
    row.request = m.request;
    row.response = m.response;
    row.init_request = m.init_body;
    row.commit = m.commit;
    MIMI_RETURN_IF_ERROR(
        st->CreateSourceMigration(row, "init by leaf 1 (seeded by the benchmark)"));
  }
  return Status::Ok();
}

// Source rows per state; `unfinished` gets the non-terminal total.
std::string SourceStates(const std::string& db, int64_t* unfinished) {
  *unfinished = -1;
  auto st = store::SqliteStore::OpenReadOnly(db, SystemClock::Get());
  if (!st.ok()) return st.status().ToString();
  auto counts = (*st)->CountByState();
  if (!counts.ok()) return counts.status().ToString();
  std::string out;
  int64_t open = 0;
  for (const auto& c : *counts) {
    if (c.role != store::Role::kSource) continue;
    out += (out.empty() ? "" : " ") + std::string(store::StateName(c.state)) +
           "=" + std::to_string(c.count);
    if (!store::IsTerminal(c.role, c.state)) open += c.count;
  }
  *unfinished = open;
  return out;
}

Result<int64_t> CountDue(store::Store& st) {
  int64_t n = 0;
  std::optional<store::DueKey> after;
  for (;;) {
    MIMI_ASSIGN_OR_RETURN(auto page, st.ListDueKeys(after ? &*after : nullptr, 5000));
    n += static_cast<int64_t>(page.size());
    if (page.size() < 5000) return n;
    after = page.back();
  }
}

// The source's config: the benchmark's sections with another lease length
// and the take-over of dead holders' leases on or off.
std::string CrashSections(int64_t lease_ms, bool reclaim) {
  return "[policy]\nresponse_ttl_seconds = 7200\n"
         "[recovery]\nscan_interval_ms = 1000\nbackoff_initial_ms = 200\n"
         "backoff_max_ms = 2000\nmax_attempts = 1000\nlease_ms = " +
         std::to_string(lease_ms) + "\nreclaim_dead_leases = " +
         (reclaim ? "true" : "false") + "\n";
}

struct CrashRestart {
  double start_ms = -1;  // spawn -> portd.json
  double next_ms = -1;   // spawn -> the migration's next transition
  std::string lease;     // the lease the dead process left
};

// Step 7: the source dies at source.after_send_content holding m's lease and is
// restarted at once; how long until m moves on.
Result<CrashRestart> KillHoldingLease(const Setup& s, PortdChild& source,
                                      const std::string& source_db,
                                      const Migration& m, int64_t lease_ms,
                                      bool reclaim) {
  source.Terminate();
  MIMI_RETURN_IF_ERROR(WritePortdConfig(s, "source.test", false, "",
                                        CrashSections(lease_ms, reclaim)));
  ::setenv("MIMI_FAILPOINTS", "source.after_send_content=crash", 1);
  Status started = source.Start();
  ::unsetenv("MIMI_FAILPOINTS");
  MIMI_RETURN_IF_ERROR(started);
  {
    auto client = PairClient(s, s.source_port, std::chrono::seconds(10));
    auto r = client->Post(kInitPath,
                          reinterpret_cast<const char*>(m.init_body.data()),
                          m.init_body.size(), kMediaType);
    if (r && r->status == 200) {
      return InternalError("the failpoint did not crash the source");
    }
  }
  source.Kill();  // reaps the process the failpoint ended
  CrashRestart out;
  {
    MIMI_ASSIGN_OR_RETURN(auto ro, store::SqliteStore::OpenReadOnly(
                                       source_db, SystemClock::Get()));
    MIMI_ASSIGN_OR_RETURN(auto row, ro->Get(m.id, store::Role::kSource));
    if (!row.lease_owner) return InternalError("the crashed process held no lease");
    out.lease = *row.lease_owner + " for " +
                std::to_string(*row.lease_expires_at - SystemClock::Get().NowMillis()) +
                " ms more";
  }
  const UnixMillis restart_at = SystemClock::Get().NowMillis();
  const auto spawn = Steady::now();
  MIMI_RETURN_IF_ERROR(source.Start());
  out.start_ms = MillisSince(spawn);
  MIMI_ASSIGN_OR_RETURN(auto ro, store::SqliteStore::OpenReadOnly(
                                     source_db, SystemClock::Get()));
  while (MillisSince(spawn) < static_cast<double>(lease_ms) + 30'000) {
    MIMI_ASSIGN_OR_RETURN(auto events, ro->Events(m.id, store::Role::kSource));
    for (const auto& e : events) {
      if (e.at >= restart_at) {
        // The event's own time (from just before the spawn), not when
        // this poll saw it.
        out.next_ms = static_cast<double>(e.at - restart_at);
        return out;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return out;
}

Status RunThreads(int threads, const std::function<Status()>& body) {
  std::vector<std::thread> pool;
  std::vector<Status> results(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] { results[t] = body(); });
  }
  for (auto& t : pool) t.join();
  for (const Status& s : results) MIMI_RETURN_IF_ERROR(s);
  return Status::Ok();
}

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Main(int argc, char** argv) {
  // A line per row moved (log/log.h) would time the terminal, not this.
  log::SetLevel(log::Level::kWarn);
  std::string dir = ".";
  fs::path build = BuildDirOfSelf();
  size_t n = 10'000, k = 300;
  int threads = 8;
  int mix_ms = 4000;
  int finish_timeout_s = 900;
  int64_t lease_ms = 120'000;  // the daemon's default recovery.lease_ms
  bool crash_only = false;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--crash-only") {
      crash_only = true;
      --i;  // takes no value
      continue;
    }
    if (i + 1 >= argc) flag = "";  // a flag without its value
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--migrations") {
      n = std::stoul(argv[i + 1]);
    } else if (flag == "--baseline") {
      k = std::stoul(argv[i + 1]);
    } else if (flag == "--threads") {
      threads = std::stoi(argv[i + 1]);
    } else if (flag == "--mix-ms") {
      mix_ms = std::stoi(argv[i + 1]);
    } else if (flag == "--finish-timeout") {
      finish_timeout_s = std::stoi(argv[i + 1]);
    } else if (flag == "--build") {
      build = argv[i + 1];
    } else if (flag == "--lease-ms") {
      lease_ms = std::stoll(argv[i + 1]);
    } else {
      std::fprintf(stderr,
                   "usage: mimi-bench-recovery [--dir DIR] [--migrations N] "
                   "[--baseline K] [--threads T] [--mix-ms MS] "
                   "[--finish-timeout S] [--build DIR] [--lease-ms MS] "
                   "[--crash-only]\n");
      return 2;
    }
  }
  if (n == 0 || k == 0 || lease_ms < 100) return 2;
  if (crash_only) n = k = 0;
  signal(SIGPIPE, SIG_IGN);
  const fs::path portd = build / "coordinator" / "mimi-portd";
  std::string tmpl = (fs::absolute(dir) / "mimi-bench-recovery-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{tmpl};
  auto pair = MakePortdPair(tmpl);
  if (!pair.ok()) return Fail("setup", pair.status());
  const Setup& s = *pair;
  for (const char* domain : {"source.test", "target.test"}) {
    if (Status st = WritePortdConfig(s, domain, false, "", kSections); !st.ok()) {
      return Fail("config", st);
    }
  }
  const std::string source_db = (s.work / "source.test" / "mimi.db").string();
  PortdChild source(portd, s.work / "source.test.toml", s.work / "source.test",
                    s.work / "source.log");
  PortdChild target(portd, s.work / "target.test.toml", s.work / "target.test",
                    s.work / "target.log");
  if (Status st = target.Start(); !st.ok()) return Fail("target", st);
  if (Status st = source.Start(); !st.ok()) return Fail("source", st);

  // 1. Groups and responses over HTTP.
  // The last two: step 7, with and without the take-over.
  std::vector<Migration> all(n + k + 2);
  auto t = Steady::now();
  std::atomic<size_t> next{0};
  if (Status st = RunThreads(threads, [&] { return Prepare(s, all, next); });
      !st.ok()) {
    return Fail("prepare", st);
  }
  const double prepare_ms = MillisSince(t);

  if (!crash_only) {
    // 2. Baseline: K migrations on the normal path.
    t = Steady::now();
    next = 0;
    if (Status st = RunThreads(threads, [&] { return MigrateNormally(s, all, n, n + k, next); });
        !st.ok()) {
      return Fail("normal path", st);
    }
    const double normal_ms = MillisSince(t);
    const double normal_rate = static_cast<double>(k) / (normal_ms / 1000);

    // 3. Source stopped, target gone; the N inits seeded.
    source.Terminate();
    target.Kill();
    t = Steady::now();
    if (Status st = SeedInitiated(source_db, all, n); !st.ok()) {
      return Fail("seed", st);
    }
    const double seed_ms = MillisSince(t);

    // 4. Mixed states: the source drives with the target down, then up, and
    //    is killed.
    if (Status st = source.Start(); !st.ok()) return Fail("source", st);
    std::this_thread::sleep_for(std::chrono::milliseconds(mix_ms / 2));
    if (Status st = target.Start(); !st.ok()) return Fail("target", st);
    std::this_thread::sleep_for(std::chrono::milliseconds(mix_ms / 2));
    source.Kill();
    int64_t unfinished = 0;
    const std::string at_kill = SourceStates(source_db, &unfinished);

    // 5. Every unfinished row due again; the bare scan.
    auto ro = store::SqliteStore::OpenReadOnly(source_db, SystemClock::Get());
    if (!ro.ok()) return Fail("open", ro.status());
    t = Steady::now();
    int64_t due = 0;
    while (MillisSince(t) < 15'000) {
      auto d = CountDue(**ro);
      if (!d.ok()) return Fail("due", d.status());
      due = *d;
      if (due >= unfinished) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const double due_wait_ms = MillisSince(t);
    t = Steady::now();
    auto scan = (*ro)->ListDue(static_cast<int>(unfinished) + 1);
    const double scan_ms = MillisSince(t);
    if (!scan.ok()) return Fail("scan", scan.status());
    ro->reset();

    // 6. Restart.
    const uint64_t log_offset = source.LogSize();
    const auto restart = Steady::now();
    if (Status st = source.Start(); !st.ok()) return Fail("restart", st);
    const double ready_ms = MillisSince(restart);
    std::string line;
    double resched_ms = -1;
    while (MillisSince(restart) < 120'000) {
      if (source.LogContainsAfter(log_offset, "recovery: first scan took up", &line)) {
        resched_ms = MillisSince(restart);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    double finish_ms = -1;
    int64_t left = unfinished;
    while (MillisSince(restart) < finish_timeout_s * 1000.0) {
      SourceStates(source_db, &left);
      if (left == 0) {
        finish_ms = MillisSince(restart);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    source.Terminate();
    target.Terminate();

    std::printf(
        "recovery benchmark: N=%zu migrations left unfinished by kill -9, K=%zu "
        "on the normal path, %d client threads, in %s\n"
        "  setup: groups + MigrationResponses over HTTPS %.1f s; N source rows "
        "seeded through the Store API (as the init handler writes them) %.1f s\n"
        "  source rows at the kill: %s (unfinished: %lld)\n"
        "  waited %.0f ms for back-off and the dead process's leases (due: %lld)\n"
        "  restart: portd.json after %.0f ms; %s\n",
        n, k, threads, fs::absolute(dir).c_str(), prepare_ms / 1000,
        seed_ms / 1000, at_kill.c_str(), static_cast<long long>(unfinished),
        due_wait_ms, static_cast<long long>(due), ready_ms,
        line.empty() ? "(no first-scan line)" : line.c_str());
    std::vector<Row> rows;
    Row r1;
    r1.figure = "all rescheduled (spawn -> first scan ended)";
    r1.value = resched_ms;
    r1.unit = "ms";
    r1.baseline_name = "bare SELECT of those rows (ListDue)";
    r1.baseline = scan_ms;
    r1.target = "< 2000 ms";
    r1.met = resched_ms >= 0 && resched_ms < 2000 ? 1 : 0;
    rows.push_back(r1);
    Row r2;
    r2.figure = "all finished (spawn -> none unfinished)";
    r2.value = finish_ms;
    r2.unit = "ms";
    r2.baseline_name = "same count on the normal path (K rate)";
    r2.baseline = static_cast<double>(unfinished) / normal_rate * 1000;
    rows.push_back(r2);
    Row r3;
    r3.figure = "recovery throughput";
    r3.value = finish_ms > 0 ? static_cast<double>(unfinished) / (finish_ms / 1000) : 0;
    r3.unit = "/s";
    r3.baseline_name = "normal-path throughput (K migrations)";
    r3.baseline = normal_rate;
    rows.push_back(r3);
    PrintTable("recovery",
               "rescheduled = the restarted daemon's first recovery scan has "
               "taken up every due row; baselines measured in this run",
               rows);
    if (finish_ms < 0) {
      std::printf("  not finished within %d s: %lld rows left\n", finish_timeout_s,
                  static_cast<long long>(left));
    }
  }

  // 7. Kill -9 while holding a lease, restarted at once. The source checks
  //    the target's keys before it freezes: the target must be up.
  if (!target.running()) {
    if (Status st = target.Start(); !st.ok()) return Fail("target", st);
  }
  const Migration& with = all[n + k];
  const Migration& without = all[n + k + 1];
  auto reclaimed = KillHoldingLease(s, source, source_db, with, lease_ms, true);
  if (!reclaimed.ok()) return Fail("kill holding a lease", reclaimed.status());
  auto waited = KillHoldingLease(s, source, source_db, without, lease_ms, false);
  if (!waited.ok()) return Fail("kill holding a lease (no take-over)", waited.status());
  source.Terminate();
  target.Terminate();
  std::printf(
      "kill -9 at source.after_send_content holding the row's lease "
      "(recovery.lease_ms = %lld, scan every 1000 ms):\n"
      "  take-over on: left %s; restart: portd.json after %.0f ms\n"
      "  take-over off: left %s; restart: portd.json after %.0f ms\n",
      static_cast<long long>(lease_ms), reclaimed->lease.c_str(),
      reclaimed->start_ms, waited->lease.c_str(), waited->start_ms);
  Row r;
  r.figure = "kill -9 mid-migration: spawn -> next transition";
  r.value = reclaimed->next_ms;
  r.unit = "ms";
  r.baseline_name = "before lease holders (waits out the lease)";
  r.baseline = waited->next_ms;
  r.target = "< restart + 1 scan";
  r.met = reclaimed->next_ms >= 0 &&
                  reclaimed->next_ms < reclaimed->start_ms + 1000 + 500
              ? 1
              : 0;
  PrintTable("recovery",
             "a crashed process's lease: taken over by its restart's first "
             "scan, beside recovery.reclaim_dead_leases = false; both in this "
             "run",
             {r});
  return 0;
}

}  // namespace
}  // namespace mimi::bench

int main(int argc, char** argv) { return mimi::bench::Main(argc, argv); }
