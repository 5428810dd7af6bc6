// Disks that fill, for real (issue 19 item 4; docs/reliability.md "Disks that
// fill and fail"): the target's data directory is a size-limited tmpfs,
// mounted by the test (root, or CAP_SYS_ADMIN; skipped with the reason
// otherwise; CI runs as root). A file fills it; a client then migrates a
// group: the target answers new MigrationRequests 503 storage-unavailable,
// stays up and reports degraded health; the file is deleted and the
// client's migration goes through, once, with both databases intact.
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "codec/json_text.h"
#include "mimi_portability/messages.h"
#include "testing/chaos_client.h"
#include "testing/portd_process.h"

namespace mimi {
namespace {

namespace fs = std::filesystem;
using testing::PortdPair;
using testing::Side;
using Steady = std::chrono::steady_clock;

// Room for the target's database, keys and tokens, and little more.
constexpr char kTmpfsOptions[] = "size=8m,mode=0700";

// Mounts a tmpfs over `dir` keeping what was in it; unmounts in the
// destructor (after the caller has stopped every process using it).
class TmpfsOver {
 public:
  explicit TmpfsOver(fs::path dir) : dir_(std::move(dir)) {}
  ~TmpfsOver() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    if (!saved_.empty()) fs::remove_all(saved_, ec);
  }
  // Empty on success, else why not (errno text).
  std::string Mount() {
    std::error_code ec;
    saved_ = dir_.string() + ".before-tmpfs";
    fs::rename(dir_, saved_, ec);
    if (ec) return "rename: " + ec.message();
    fs::create_directory(dir_, ec);
    if (ec) return "mkdir: " + ec.message();
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, kTmpfsOptions) != 0) {
      const std::string why = std::strerror(errno);
      fs::remove(dir_, ec);
      fs::rename(saved_, dir_, ec);
      saved_.clear();
      return "mount -t tmpfs: " + why;
    }
    mounted_ = true;
    fs::copy(saved_, dir_, fs::copy_options::recursive, ec);
    if (ec) return "copy into the tmpfs: " + ec.message();
    return "";
  }

 private:
  const fs::path dir_;
  fs::path saved_;
  bool mounted_ = false;
};

// Writes `file` until the filesystem is full (ENOSPC); bytes written.
int64_t FillTmpfs(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  std::vector<char> chunk(64 * 1024, 'x');
  int64_t total = 0;
  // Bounded: the tmpfs is 8 MiB.
  for (int i = 0; i < 100'000; ++i) {
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    total += n;
  }
  ::close(fd);
  return total;
}

struct TmpfsReply {
  int status = 0;
  std::string error;
  std::string detail;
  std::string body;
};

TmpfsReply TmpfsReplyOf(const httplib::Result& r) {
  TmpfsReply out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  auto j = codec::ParseJson(r->body);
  if (j.is_object()) {
    out.error = j.value("error", "");
    out.detail = j.value("detail", "");
  }
  return out;
}

TEST(DiskFullTmpfsTest, FullDataDirectoryRefusesNewWorkThenTheMigrationFinishes) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "mounting a tmpfs needs root (CI runs this as root)";
  }
  auto created = PortdPair::Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  PortdPair& pair = **created;
  const fs::path target_dir = fs::path(pair.DatabasePath(Side::kTarget)).parent_path();
  TmpfsOver tmpfs(target_dir);
  // Runs before tmpfs and the pair go: nothing may hold the mount.
  struct StopFirst {
    PortdPair& pair;
    ~StopFirst() {
      pair.source().Kill();
      pair.target().Kill();
    }
  } stop_first{pair};
  if (std::string why = tmpfs.Mount(); !why.empty()) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << why;
  }
  ASSERT_TRUE(pair.Start().ok()) << pair.Logs();

  const auto start = Steady::now();
  const auto deadline = start + std::chrono::seconds(60);
  auto m = testing::CreateGroupRetrying(pair, "tmpfs", deadline);
  ASSERT_TRUE(m.ok()) << m.status().ToString();

  const fs::path filler = target_dir / "filler";
  const int64_t filled = FillTmpfs(filler);
  ASSERT_GT(filled, 0);

  // New work is refused while the disk is full. The first writes may still
  // fit in what SQLite's files already hold; a bounded number of tries.
  auto target = pair.Client(Side::kTarget);
  MigrationRequest request{ToBytes("source.test"), ToBytes("target.test"),
                           m->group_id, testing::kChaosEpoch};
  const Bytes body = *Encode(request);
  TmpfsReply refused;
  int tries = 0;
  for (; tries < 50 && refused.status != 503; ++tries) {
    refused = TmpfsReplyOf(target->Post(
        "/mimi-portability/v1/request",
        {{"MIMI-Cipher-Suite", std::to_string(m->suite)},
         {"Authorization", "Bearer " + pair.client_token()}},
        reinterpret_cast<const char*>(body.data()), body.size(),
        "application/mimi-portability"));
  }
  EXPECT_EQ(refused.status, 503) << refused.body << "\n" << pair.Logs();
  EXPECT_EQ(refused.error, "storage-unavailable") << refused.body;
  EXPECT_NE(refused.detail.find("disk full"), std::string::npos) << refused.body;
  auto health = target->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(codec::ParseJson(health->body).value("status", ""), "degraded")
      << health->body;

  // A client migrates meanwhile; it cannot get anywhere yet.
  std::atomic<bool> client_done{false};
  std::thread client([&] {
    testing::RunClient(pair, *m, deadline);
    client_done = true;
  });
  struct JoinOnExit {
    std::thread& t;
    ~JoinOnExit() {
      if (t.joinable()) t.join();
    }
  } join_on_exit{client};
  // A few of its tries are refused (it retries 5xx); the daemon is up.
  const auto client_seen = Steady::now() + std::chrono::seconds(1);
  while (Steady::now() < client_seen && !client_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(client_done) << testing::OutcomeName(m->outcome) << " " << m->error;
  EXPECT_FALSE(pair.target().Poll().has_value()) << pair.Logs();

  // Space returns.
  fs::remove(filler);
  const auto freed = Steady::now();
  client.join();
  const auto confirmed = Steady::now();
  EXPECT_EQ(m->outcome, testing::ClientMigration::Outcome::kConfirmed)
      << testing::OutcomeName(m->outcome) << " " << m->error << "\n"
      << pair.Logs();
  Status settled = testing::WaitSettled(pair, *m, Steady::now() + std::chrono::seconds(20));
  ASSERT_TRUE(settled.ok()) << settled.ToString() << "\n" << pair.Logs();
  auto bad = testing::CheckMoved(pair, *m);
  auto integrity = testing::CheckIntegrity(pair);
  bad.insert(bad.end(), integrity.begin(), integrity.end());
  EXPECT_TRUE(bad.empty()) << testing::Join(bad) << "\n" << pair.Logs();
  auto after = target->Get("/healthz");
  ASSERT_TRUE(after);
  EXPECT_EQ(codec::ParseJson(after->body).value("status", ""), "ok") << after->body;
  // Neither process ended on its own: still draining cleanly on SIGTERM.
  for (Side side : {Side::kSource, Side::kTarget}) {
    auto ended = pair.process(side).Terminate();
    ASSERT_TRUE(ended.has_value());
    EXPECT_EQ(ended->code, 0) << SideName(side) << " " << ended->ToString();
  }
  std::printf(
      "[disk-full] tmpfs %s: filled with %lld bytes, 503 after %d request(s), "
      "confirmed %lld ms after the space returned (%d requests, %d inits)\n",
      kTmpfsOptions, static_cast<long long>(filled), tries,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(confirmed - freed)
              .count()),
      m->requests, m->inits);
}

}  // namespace
}  // namespace mimi
