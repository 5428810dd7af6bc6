// mimi-portctl status|list|show|watch|retry|abort|stats, run as the built
// binary against an admin API served inside this test process (real
// HttpServer on a free port, real SqliteStore in a temp dir), and against the
// database read-only when no daemon answers. --json output is parsed; exit
// codes are those of tools/cli/commands.h.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "admin_api/admin_token.h"
#include "codec/json_text.h"
#include "daemon/admin_routes.h"
#include "protocol/transfer_progress.h"
#include "store/sqlite_store.h"
#include "store_testing.h"
#include "testing/json_shape.h"
#include "testing/read_file.h"

namespace mimi {
namespace {

namespace fs = std::filesystem;
using daemon::AdminActions;
using nlohmann::json;
using store::MigrationState;
using store::Role;
using store::testing::DataFor;
using store::testing::FindRule;
using store::testing::MakeId;
using store::testing::MakeRecord;
using store::testing::TempDir;

const char kPortctl[] = MIMI_BINARY_DIR "/tools/mimi-portctl";

// Fails the test for every way `out` differs from the shape documented under
// `heading` in docs/operations.md ("JSON output").
void ExpectDocumentedShape(const std::string& heading, const json& out) {
  std::string error;
  const mimi::testing::JsonShape shape = mimi::testing::DocumentedJsonShape(
      mimi::testing::OperationsDoc(), heading, &error);
  ASSERT_TRUE(error.empty()) << error;
  for (const std::string& p : mimi::testing::JsonShapeProblems(out, shape)) {
    ADD_FAILURE() << heading << ": " << p << "\n"
                  << mimi::codec::DumpJson(out, 2);
  }
}

using ::mimi::testing::ReadTextFile;

// One mimi-portctl process (posix_spawn: safe beside the server's threads)
// with stdout and stderr in files; killed and reaped if still running when
// the object goes away.
class Portctl {
 public:
  Portctl(const fs::path& dir, const std::vector<std::string>& args)
      : out_(dir / ("out" + std::to_string(++counter_))),
        err_(dir / ("err" + std::to_string(counter_))) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> storage = {kPortctl};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    // A clean environment: MIMI_ADMIN_URL / MIMI_DATA_DIR of the caller's
    // shell must not change what is tested.
    std::string path_env = "PATH=/usr/bin:/bin";
    char* envp[] = {path_env.data(), nullptr};
    if (posix_spawn(&pid_, kPortctl, &fa, nullptr, argv.data(), envp) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Portctl() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // The exit code, or -1 if it had to be killed after `timeout`.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (pid_ <= 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string out() const { return ReadTextFile(out_); }
  std::string err() const { return ReadTextFile(err_); }

 private:
  static inline int counter_ = 0;
  fs::path out_, err_;
  pid_t pid_ = -1;
};

struct Ran {
  int code;
  std::string out, err;
};

class RecordingActions : public AdminActions {
 public:
  Status Retry(std::string_view id) override { return Record("retry", id); }
  Status Abort(std::string_view id) override { return Record("abort", id); }
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::mutex mu_;
  std::vector<std::string> calls_;
  Status answer = Status::Ok();

 private:
  Status Record(const char* what, std::string_view id) {
    std::lock_guard lock(mu_);
    calls_.push_back(std::string(what) + " " + std::string(id));
    return answer;
  }
};

class CliOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = dir_.path() / "data";
    fs::create_directory(data_dir_);
    clock_.Set(SystemClock::Get().NowMillis());
    auto s = store::SqliteStore::Open((data_dir_ / "mimi.db").string(), clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto token = admin_api::LoadOrCreateAdminToken(data_dir_.string());
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    daemon::HttpServerOptions o;
    o.name = "admin";
    o.plain_http = true;
    o.threads = 2;
    auto server = daemon::HttpServer::Create(o, &metrics_);
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    daemon::RegisterAdminRoutes(*server_, *store_, *token, &actions_, clock_,
                                &transfers_);
    ASSERT_TRUE(server_->Start().ok());
    admin_url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  // Runs a command with --admin and --data-dir appended.
  Ran Run(std::vector<std::string> args, bool with_admin = true) {
    if (with_admin) {
      args.push_back("--admin");
      args.push_back(admin_url_);
    }
    args.push_back("--data-dir");
    args.push_back(data_dir_.string());
    Portctl p(dir_.path(), args);
    int code = p.Wait();
    return {code, p.out(), p.err()};
  }
  json RunJson(std::vector<std::string> args, int want_code = 0) {
    args.push_back("--json");
    Ran r = Run(args);
    EXPECT_EQ(r.code, want_code) << r.err;
    json j = mimi::codec::ParseJson(r.out);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  void Step(const std::string& id, Role role, MigrationState from, MigrationState to) {
    auto out = store_->Transition(id, role, from, to,
                                  DataFor(*FindRule(role, from, to)));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }

  // a: source in content-sent; b: source initiated and stalled; t: target
  // that expired.
  void Fill() {
    ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(a_, Role::kSource, "g1"),
                                              "client asked").ok());
    ASSERT_TRUE(store_->CreateSourceMigration(MakeRecord(b_, Role::kSource, "g2"),
                                              "client asked").ok());
    ASSERT_TRUE(store_->CreateTargetMigration(MakeRecord(t_, Role::kTarget, "g1"),
                                              clock_.NowMillis() + 1000, "issued").ok());
    clock_.Advance(3000);
    Step(a_, Role::kSource, MigrationState::kInitiated, MigrationState::kContentSent);
    Step(t_, Role::kTarget, MigrationState::kRequested, MigrationState::kExpired);
    ASSERT_TRUE(store_->RecordFailure(b_, Role::kSource, "target.example: 503",
                                      clock_.NowMillis() + 60'000, true).ok());
  }

  void StopDaemon() { server_->Stop(); }

  TempDir dir_;
  fs::path data_dir_;
  FakeClock clock_;
  daemon::Metrics metrics_;
  RecordingActions actions_;
  protocol::TransferProgress transfers_{clock_};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<daemon::HttpServer> server_;
  std::string admin_url_;
  const std::string a_ = MakeId(1), b_ = MakeId(2), t_ = MakeId(3);
};

TEST_F(CliOpsTest, ListJsonWithFilters) {
  Fill();
  json all = RunJson({"list"});
  ASSERT_EQ(all["migrations"].size(), 3u);
  json src = RunJson({"list", "--role", "source", "--state", "initiated"});
  ASSERT_EQ(src["migrations"].size(), 1u);
  EXPECT_EQ(src["migrations"][0]["id"], b_);
  EXPECT_EQ(src["migrations"][0]["last_error"], "target.example: 503");
  json g1 = RunJson({"list", "--group", ToHex(ToBytes("g1")), "--limit", "1"});
  ASSERT_EQ(g1["migrations"].size(), 1u);

  Ran bad = Run({"list", "--state", "flying"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("unknown state"), std::string::npos) << bad.err;
  EXPECT_EQ(Run({"list", "--limit", "0"}).code, 2);
}

TEST_F(CliOpsTest, ListHumanIsAnAlignedTableWithRelativeTimes) {
  Fill();
  Ran r = Run({"list"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string header, row;
  std::getline(lines, header);
  const size_t state_col = header.find("STATE");
  const size_t created_col = header.find("CREATED");
  ASSERT_NE(state_col, std::string::npos) << r.out;
  int rows = 0;
  while (std::getline(lines, row)) {
    if (row.find(" migration(s)") != std::string::npos) break;
    ++rows;
    EXPECT_EQ(row.find_first_not_of(' ', state_col), state_col) << row;
    EXPECT_EQ(row[state_col - 1], ' ') << row;
    EXPECT_EQ(row.substr(created_col, 6), "3s ago") << row;
  }
  EXPECT_EQ(rows, 3) << r.out;
  EXPECT_NE(r.out.find("3 migration(s)"), std::string::npos);
}

TEST_F(CliOpsTest, ShowAndStatus) {
  Fill();
  json show = RunJson({"show", a_});
  ASSERT_EQ(show["migrations"].size(), 1u);
  const json& m = show["migrations"][0];
  EXPECT_EQ(m["state"], "content-sent");
  EXPECT_EQ(m["messages"]["commit"], ToHex(ToBytes("commit:" + a_)));
  ASSERT_EQ(m["events"].size(), 2u);
  EXPECT_EQ(m["events"][1]["to"], "content-sent");

  Ran human = Run({"show", b_});
  ASSERT_EQ(human.code, 0) << human.err;
  EXPECT_NE(human.out.find("target.example: 503"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("events:"), std::string::npos);
  EXPECT_NE(human.out.find("client asked"), std::string::npos);
  EXPECT_NE(human.out.find("since now\nlast error         target.example: 503\n"),
            std::string::npos)
      << human.out;
  EXPECT_LT(human.out.find("  request "), human.out.find("  abort_ack "));

  json st = RunJson({"status", a_});
  EXPECT_EQ(st["migrations"][0]["state"], "content-sent");
  EXPECT_FALSE(st["migrations"][0].contains("messages"));
  // An expired target is a failed state: exit 1.
  json expired = RunJson({"status", t_}, 1);
  EXPECT_EQ(expired["migrations"][0]["state"], "expired");
  Ran st_human = Run({"status", b_});
  EXPECT_EQ(st_human.code, 0);
  EXPECT_NE(st_human.out.find("initiated"), std::string::npos);

  Ran missing = Run({"status", MakeId(42)});
  EXPECT_EQ(missing.code, 3) << missing.err;
  EXPECT_EQ(Run({"show", MakeId(42)}).code, 3);
  Ran bad = Run({"show", "xyz"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("64 hex digits"), std::string::npos) << bad.err;
}

// list and show name each row's lease holder and whether it is alive, and
// flag a row whose holder is dead; stats lists the holders.
TEST_F(CliOpsTest, ListAndShowNameTheLeaseHolderAndFlagADeadOne) {
  Fill();
  ASSERT_TRUE(store_->RegisterLeaseHolder("node-a", "host-a", 11, 6000).ok());
  ASSERT_TRUE(store_->AcquireLease(a_, Role::kSource, "node-a/1#1", 600'000).ok());
  ASSERT_TRUE(store_->RegisterLeaseHolder("node-a", "host-a", 12, 6000).ok());
  ASSERT_TRUE(store_->AcquireLease(b_, Role::kSource, "node-a/2#1", 600'000).ok());

  Ran list = Run({"list"});
  ASSERT_EQ(list.code, 0) << list.err;
  std::map<std::string, std::string> rows;
  std::istringstream lines(list.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() >= 64) rows[line.substr(0, 64)] = line;
  }
  EXPECT_NE(list.out.find("LEASE"), std::string::npos) << list.out;
  EXPECT_NE(rows[a_].find("node-a/1 DEAD-HOLDER"), std::string::npos) << list.out;
  EXPECT_NE(rows[b_].find("node-a/2 (alive)"), std::string::npos) << list.out;
  EXPECT_EQ(rows[t_].substr(rows[t_].find_last_not_of(' ')), "-") << list.out;

  Ran show = Run({"show", a_});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("lease holder       node-a/1 DEAD-HOLDER: taken over at "
                          "the next recovery scan\n"),
            std::string::npos)
      << show.out;

  Ran stats = Run({"stats"});
  ASSERT_EQ(stats.code, 0) << stats.err;
  EXPECT_NE(stats.out.find("LEASE HOLDER"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("node-a/2"), std::string::npos) << stats.out;
}

TEST_F(CliOpsTest, Stats) {
  Fill();
  json s = RunJson({"stats"});
  EXPECT_EQ(s["total"], 3);
  EXPECT_EQ(s["stalled"], 1);
  EXPECT_EQ(s["oldest_unfinished_age_ms"], 3000);
  Ran human = Run({"stats"});
  ASSERT_EQ(human.code, 0);
  EXPECT_NE(human.out.find("total 3, stalled 1, oldest unfinished 3s old"),
            std::string::npos)
      << human.out;
}

TEST_F(CliOpsTest, RetryAndAbort) {
  Fill();
  Ran r = Run({"retry", b_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("accepted"), std::string::npos);
  EXPECT_EQ(Run({"abort", a_}).code, 0);
  EXPECT_EQ(actions_.calls(), (std::vector<std::string>{"retry " + b_, "abort " + a_}));
  EXPECT_EQ(Run({"abort", MakeId(42)}).code, 3);
  EXPECT_EQ(Run({"retry", "nothex"}).code, 2);
  {
    std::lock_guard lock(actions_.mu_);
    actions_.answer = Status(StatusCode::kFailedPrecondition, "already confirmed");
  }
  Ran refused = Run({"abort", a_});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("already confirmed"), std::string::npos) << refused.err;
}

TEST_F(CliOpsTest, WrongTokenIsRefused) {
  Fill();
  const fs::path other = dir_.path() / "other";
  fs::create_directory(other);
  ASSERT_TRUE(admin_api::LoadOrCreateAdminToken(other.string()).ok());
  Ran r = Run({"list", "--token-file", admin_api::AdminTokenPath(other.string())});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("rejected the admin token"), std::string::npos) << r.err;
}

TEST_F(CliOpsTest, DaemonDownReadsTheDatabaseReadOnlyAndWritesExit4) {
  Fill();
  StopDaemon();
  const std::string db = (data_dir_ / "mimi.db").string();
  Ran list = Run({"list", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.err.find("daemon unreachable; read-only from " + db),
            std::string::npos)
      << list.err;
  EXPECT_EQ(mimi::codec::ParseJson(list.out)["migrations"].size(), 3u);
  Ran status = Run({"status", t_, "--json"});
  EXPECT_EQ(status.code, 1);
  EXPECT_EQ(mimi::codec::ParseJson(status.out)["migrations"][0]["state"],
            "expired");
  Ran stats = Run({"stats", "--json"});
  EXPECT_EQ(stats.code, 0);
  EXPECT_EQ(mimi::codec::ParseJson(stats.out)["stalled"], 1);
  EXPECT_EQ(Run({"show", MakeId(42)}).code, 3);
  // No URL at all: straight to the database.
  Ran no_url = Run({"show", a_, "--json"}, /*with_admin=*/false);
  EXPECT_EQ(no_url.code, 0);
  EXPECT_NE(no_url.err.find("read-only from"), std::string::npos);
  EXPECT_EQ(
      mimi::codec::ParseJson(no_url.out)["migrations"][0]["events"].size(), 2u);

  Ran retry = Run({"retry", b_});
  EXPECT_EQ(retry.code, 4) << retry.err;
  EXPECT_NE(retry.err.find("nothing was done"), std::string::npos) << retry.err;
  EXPECT_EQ(Run({"abort", a_}).code, 4);
  EXPECT_TRUE(actions_.calls().empty());
  // The read-only path changed nothing, and the row is still stalled.
  EXPECT_TRUE(store_->Get(b_, Role::kSource)->stalled_since.has_value());

  // Neither a daemon nor a database: exit 4.
  Portctl none(dir_.path(), {"list", "--admin", admin_url_, "--token-file",
                             admin_api::AdminTokenPath(data_dir_.string())});
  EXPECT_EQ(none.Wait(), 4);
  EXPECT_NE(none.err().find("--data-dir"), std::string::npos) << none.err();
}

// Waits until `p` has printed `text` (so that a watcher has seen a state
// before the test moves on), up to 10 s.
bool WaitForOutput(const Portctl& p, const std::string& text) {
  for (int i = 0; i < 1000; ++i) {
    if (p.out().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// The JSON objects of a `watch --json` output, one per line.
std::vector<json> JsonLines(const std::string& out) {
  std::vector<json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(mimi::codec::ParseJson(line));
  }
  return lines;
}

TEST_F(CliOpsTest, WatchFollowsStateChangesUntilTerminal) {
  Fill();
  Portctl watch(dir_.path(), {"watch", a_, "--json", "--interval-ms", "20",
                              "--admin", admin_url_, "--data-dir",
                              data_dir_.string()});
  const std::vector<std::pair<MigrationState, MigrationState>> steps = {
      {MigrationState::kContentSent, MigrationState::kTargetComplete},
      {MigrationState::kTargetComplete, MigrationState::kConfirmed},
      {MigrationState::kConfirmed, MigrationState::kPurged}};
  for (const auto& [from, to] : steps) {
    // Each state is seen by a poll before the next transition.
    ASSERT_TRUE(WaitForOutput(
        watch, "\"state\":\"" + std::string(store::StateName(from)) + "\""))
        << watch.out();
    Step(a_, Role::kSource, from, to);
  }
  ASSERT_EQ(watch.Wait(), 0) << watch.err();
  std::vector<json> lines = JsonLines(watch.out());
  std::vector<std::string> states;
  for (const json& l : lines) states.push_back(l["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"content-sent", "target-complete",
                                              "confirmed", "purged"}));
  EXPECT_TRUE(lines[0]["previous"].is_null());
  EXPECT_EQ(lines[3]["previous"], "confirmed");
  EXPECT_EQ(lines[3]["role"], "source");

  // Already terminal and failed: one line, exit 1; human output.
  Ran expired = Run({"watch", t_});
  EXPECT_EQ(expired.code, 1);
  EXPECT_NE(expired.out.find("target  expired"), std::string::npos) << expired.out;
  EXPECT_EQ(Run({"watch", MakeId(42)}).code, 3);
}

TEST_F(CliOpsTest, WatchShowsContentUploadProgress) {
  Fill();
  constexpr uint64_t kMiB = 1024 * 1024;
  transfers_.Begin(a_, 64 * kMiB);
  clock_.Advance(1000);
  transfers_.Update(a_, 16 * kMiB);

  // show carries the upload; the target's row never does.
  json shown = RunJson({"show", a_});
  ASSERT_EQ(shown["migrations"].size(), 1u);
  EXPECT_EQ(shown["migrations"][0]["transfer"]["sent_bytes"], 16 * kMiB);
  EXPECT_EQ(shown["migrations"][0]["transfer"]["total_bytes"], 64 * kMiB);
  EXPECT_TRUE(RunJson({"show", t_})["migrations"][0]["transfer"].is_null());

  Portctl watch(dir_.path(), {"watch", a_, "--json", "--interval-ms", "20",
                              "--admin", admin_url_, "--data-dir",
                              data_dir_.string()});
  ASSERT_TRUE(WaitForOutput(watch, "\"sent_bytes\":16777216")) << watch.out();
  clock_.Advance(1000);
  transfers_.Update(a_, 64 * kMiB);
  ASSERT_TRUE(WaitForOutput(watch, "\"sent_bytes\":67108864")) << watch.out();
  transfers_.End(a_);
  Step(a_, Role::kSource, MigrationState::kContentSent, MigrationState::kTargetComplete);
  Step(a_, Role::kSource, MigrationState::kTargetComplete, MigrationState::kConfirmed);
  Step(a_, Role::kSource, MigrationState::kConfirmed, MigrationState::kPurged);
  ASSERT_EQ(watch.Wait(), 0) << watch.err();

  // One line per progress seen (no repeats while it stands still), between
  // the state lines.
  std::vector<uint64_t> sent;
  std::vector<std::string> states;
  for (const json& l : JsonLines(watch.out())) {
    ExpectDocumentedShape(l.contains("transfer")
                              ? "`watch --json`: upload progress"
                              : "`watch --json`: a state change",
                          l);
    if (l.contains("transfer")) {
      EXPECT_EQ(l["role"], "source");
      EXPECT_EQ(l["transfer"]["total_bytes"], 64 * kMiB);
      sent.push_back(l["transfer"]["sent_bytes"]);
    } else {
      states.push_back(l["state"]);
    }
  }
  EXPECT_EQ(sent, (std::vector<uint64_t>{16 * kMiB, 64 * kMiB}));
  EXPECT_EQ(states.front(), "content-sent");
  EXPECT_EQ(states.back(), "purged");

  // Human output: a bar with sizes and rate (a line per change when stdout
  // is not a terminal).
  transfers_.Begin(b_, 64 * kMiB);
  clock_.Advance(2000);
  transfers_.Update(b_, 32 * kMiB);
  Portctl human(dir_.path(), {"watch", b_, "--interval-ms", "20", "--admin",
                              admin_url_, "--data-dir", data_dir_.string()});
  ASSERT_TRUE(WaitForOutput(human, "32.0 MiB / 64.0 MiB")) << human.out();
  transfers_.End(b_);
  Step(b_, Role::kSource, MigrationState::kInitiated, MigrationState::kAbortRequested);
  Step(b_, Role::kSource, MigrationState::kAbortRequested, MigrationState::kAborted);
  EXPECT_EQ(human.Wait(), 1) << human.err();
  EXPECT_NE(human.out().find("source  sending content [###############---------------]"
                             "  50%  32.0 MiB / 64.0 MiB  16.0 MiB/s"),
            std::string::npos)
      << human.out();
}

TEST_F(CliOpsTest, WatchReadOnlyWhenTheDaemonIsDown) {
  Fill();
  StopDaemon();
  Portctl watch(dir_.path(), {"watch", b_, "--json", "--interval-ms", "20",
                              "--admin", admin_url_, "--data-dir",
                              data_dir_.string()});
  ASSERT_TRUE(WaitForOutput(watch, "\"state\":\"initiated\"")) << watch.err();
  Step(b_, Role::kSource, MigrationState::kInitiated, MigrationState::kAbortRequested);
  ASSERT_TRUE(WaitForOutput(watch, "\"state\":\"abort-requested\"")) << watch.err();
  Step(b_, Role::kSource, MigrationState::kAbortRequested, MigrationState::kAborted);
  EXPECT_EQ(watch.Wait(), 1) << watch.err();
  std::vector<std::string> states;
  for (const json& l : JsonLines(watch.out())) states.push_back(l["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"initiated", "abort-requested",
                                              "aborted"}));
  EXPECT_NE(watch.err().find("read-only from"), std::string::npos);
}

// Each operator command's --json has exactly the documented fields and
// types: a field added to the admin API without its line in
// docs/operations.md fails here, and so does a documented one that is gone.
TEST_F(CliOpsTest, JsonOutputIsTheDocumentedShape) {
  Fill();
  // a: source with a stalled neighbour; t: an expired target.
  ExpectDocumentedShape("`status --json`", RunJson({"status", a_}));
  ExpectDocumentedShape("`status --json`", RunJson({"status", t_}, 1));
  ExpectDocumentedShape("`list --json`", RunJson({"list"}));
  ExpectDocumentedShape("`show --json`", RunJson({"show", a_}));
  ExpectDocumentedShape("`show --json`", RunJson({"show", b_}));
  ExpectDocumentedShape("`stats --json`", RunJson({"stats"}));
  Ran watch = Run({"watch", t_, "--json"});  // already expired: one line, exit 1
  EXPECT_EQ(watch.code, 1) << watch.err;
  const std::vector<json> lines = JsonLines(watch.out);
  ASSERT_EQ(lines.size(), 1u) << watch.out;
  ExpectDocumentedShape("`watch --json`: a state change", lines[0]);

  // The checker is not vacuous: an extra field and a missing one are found.
  json list = RunJson({"list"});
  list["migrations"][0]["surprise"] = 1;
  list["migrations"][1].erase("epoch");
  std::string error;
  const auto problems = mimi::testing::JsonShapeProblems(
      list, mimi::testing::DocumentedJsonShape(mimi::testing::OperationsDoc(),
                                               "`list --json`", &error));
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "undocumented field migrations[].surprise",
                          "documented field migrations[].epoch is missing"}));
}

}  // namespace
}  // namespace mimi
