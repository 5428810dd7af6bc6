// store_crash_helper: a separate process for the store tests, started with
// posix_spawn so that no test forks a multithreaded gtest process.
//
//   store_crash_helper drive DB SEED
//       Drives migrations of both roles through random legal paths forever.
//       After every call that returned OK it writes "C <id> <role> <state>\n"
//       to stdout (unbuffered), so the parent knows what was committed
//       before it sent SIGKILL.
//   store_crash_helper race DB ID FROM TO
//       Opens DB, waits for one byte on stdin (the start gun), runs the
//       source transition FROM -> TO and prints "applied",
//       "already-applied" or the status code name.
//   store_crash_helper fixture DB
//       Writes the store test fixture: rows of both roles in every state.
//   store_crash_helper open DB rw|ro
//       Waits for one byte on stdin (the start gun), opens DB as the daemon
//       (rw: creating and upgrading it) or as mimi-portctl does (ro), and
//       prints "ok <schema version>" or "<status code name> <detail>".
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "log/log.h"
#include "mimi_portability/clock.h"
#include "store/sqlite_store.h"
#include "store_testing.h"

namespace mimi::store {
namespace {

void WriteLine(const std::string& line) {
  std::string s = line + "\n";
  // One write per line: a kill can cut it short, but never interleave it.
  ssize_t n = ::write(STDOUT_FILENO, s.data(), s.size());
  (void)n;
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "store_crash_helper: %s: %s\n", what.c_str(),
               s.ToString().c_str());
  return 1;
}

void Report(const std::string& id, Role role, MigrationState state) {
  WriteLine("C " + id + " " + std::string(RoleName(role)) + " " +
            std::string(StateName(state)));
}

int Drive(const std::string& db, uint64_t seed) {
  auto store = SqliteStore::Open(db, SystemClock::Get());
  if (!store.ok()) return Fail("open", store.status());
  std::mt19937_64 rng(seed);
  for (uint64_t n = 0;; ++n) {
    Role role = (rng() % 2) ? Role::kSource : Role::kTarget;
    std::string id = testing::MakeId(n, seed);
    MigrationRecord rec = testing::MakeRecord(id, role, "group-" + id);
    Status created =
        role == Role::kSource
            ? (*store)->CreateSourceMigration(rec, "created")
            : (*store)->CreateTargetMigration(
                  rec, SystemClock::Get().NowMillis() + 600000, "issued");
    if (!created.ok()) return Fail("create " + id, created);
    MigrationState state = InitialState(role);
    Report(id, role, state);
    while (!IsTerminal(role, state)) {
      std::vector<const TransitionRule*> next;
      for (const TransitionRule& r : TransitionRules()) {
        if (r.role == role && r.from == state) next.push_back(&r);
      }
      const TransitionRule* rule = next[rng() % next.size()];
      auto out = (*store)->Transition(id, role, rule->from, rule->to,
                                      testing::DataFor(*rule));
      if (!out.ok()) return Fail("transition " + id, out.status());
      state = rule->to;
      Report(id, role, state);
    }
  }
}

int Race(const std::string& db, const std::string& id,
         const std::string& from, const std::string& to) {
  auto store = SqliteStore::Open(db, SystemClock::Get());
  if (!store.ok()) return Fail("open", store.status());
  auto f = ParseState(from);
  auto t = ParseState(to);
  if (!f.ok() || !t.ok()) return Fail("states", f.ok() ? t.status() : f.status());
  const TransitionRule* rule = testing::FindRule(Role::kSource, *f, *t);
  if (rule == nullptr) return Fail("rule", InvalidArgumentError(from + to));
  char go = 0;
  if (::read(STDIN_FILENO, &go, 1) != 1) return 2;
  auto out = (*store)->Transition(id, Role::kSource, *f, *t,
                                  testing::DataFor(*rule));
  if (!out.ok()) {
    WriteLine(std::string(StatusCodeName(out.status().code())));
  } else {
    WriteLine(*out == TransitionOutcome::kApplied ? "applied"
                                                  : "already-applied");
  }
  return 0;
}

// One row per reachable state of each role, so that upgrades are tested on
// every kind of row that exists.
int Fixture(const std::string& db) {
  FakeClock clock(1'700'000'000'000);
  auto store = SqliteStore::Open(db, clock);
  if (!store.ok()) return Fail("open", store.status());
  uint64_t n = 0;
  for (Role role : {Role::kSource, Role::kTarget}) {
    for (MigrationState state : testing::kAllStates) {
      auto path = testing::PathTo(role, state);
      if (!path) continue;
      std::string id = testing::MakeId(++n, 0xf1f1);
      MigrationRecord rec = testing::MakeRecord(
          id, role, "fixture-" + std::string(StateName(state)));
      Status created = role == Role::kSource
                           ? (*store)->CreateSourceMigration(rec, "created")
                           : (*store)->CreateTargetMigration(
                                 rec, clock.NowMillis() + 600000, "issued");
      if (!created.ok()) return Fail("create", created);
      for (const TransitionRule* rule : *path) {
        clock.Advance(1000);
        auto out = (*store)->Transition(id, role, rule->from, rule->to,
                                        testing::DataFor(*rule));
        if (!out.ok()) return Fail("transition", out.status());
      }
      clock.Advance(1000);
    }
  }
  return 0;
}

int OpenOnce(const std::string& db, const std::string& mode) {
  char go = 0;
  if (::read(STDIN_FILENO, &go, 1) != 1) return 2;
  Result<std::unique_ptr<SqliteStore>> store =
      mode == "ro" ? SqliteStore::OpenReadOnly(db, SystemClock::Get())
                   : SqliteStore::Open(db, SystemClock::Get());
  if (!store.ok()) {
    WriteLine(std::string(StatusCodeName(store.status().code())) + " " +
              store.status().detail());
    return 0;
  }
  auto version = (*store)->ReadPragma("user_version");
  WriteLine("ok " + (version.ok() ? *version : std::string("?")));
  return 0;
}

}  // namespace
}  // namespace mimi::store

int main(int argc, char** argv) {
  // Stdout carries the outcomes the tests read; the store's log lines
  // (log/log.h) would mix into it.
  mimi::log::Configure("off", "store_crash_helper");
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "drive") {
    return mimi::store::Drive(args[1], std::stoull(args[2]));
  }
  if (args.size() == 5 && args[0] == "race") {
    return mimi::store::Race(args[1], args[2], args[3], args[4]);
  }
  if (args.size() == 2 && args[0] == "fixture") {
    return mimi::store::Fixture(args[1]);
  }
  if (args.size() == 3 && args[0] == "open") {
    return mimi::store::OpenOnce(args[1], args[2]);
  }
  std::fprintf(stderr,
               "usage: store_crash_helper drive DB SEED | race DB ID FROM TO "
               "| fixture DB | open DB rw|ro\n");
  return 2;
}
