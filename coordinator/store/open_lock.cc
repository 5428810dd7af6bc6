#include "store/open_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

namespace mimi::store {

Result<OpenLock> OpenLock::Acquire(const std::string& db_path, Mode mode,
                                   std::chrono::milliseconds timeout) {
  std::filesystem::path dir = std::filesystem::path(db_path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    // No directory means no database either; the open that follows says so
    // in SQLite's words.
    if (errno == ENOENT) return OpenLock(-1);
    return UnavailableError("cannot open directory " + dir.string() +
                            " to lock it: " + std::strerror(errno));
  }
  OpenLock lock(fd);
  const int op = (mode == Mode::kExclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (::flock(fd, op) == 0) return lock;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return UnavailableError("cannot lock directory " + dir.string() + ": " +
                              std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return UnavailableError("database busy: " + dir.string() +
                              " is being opened by another process for longer "
                              "than the busy timeout");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

OpenLock::OpenLock(OpenLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

OpenLock& OpenLock::operator=(OpenLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

OpenLock::~OpenLock() {
  // Closing the only descriptor of the open file description releases the
  // flock.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mimi::store
