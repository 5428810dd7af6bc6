#include "daemon/instance_id.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "crypto/random.h"
#include "mimi_portability/bytes.h"

namespace mimi::daemon {
namespace {

constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxHostPart = 40;

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

Result<std::string> MakeInstanceId(const RandomSource& random) {
  Bytes r(6);
  Status s = random ? random(r) : crypto::RandomBytes(r);
  if (!s.ok()) {
    return Status(s.code(), std::string(s.reason()),
                  "instance id: no random bytes: " + s.detail());
  }
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  std::string part;
  for (const char* c = host; *c != '\0' && part.size() < kMaxHostPart; ++c) {
    if (IdChar(*c)) part += *c;
  }
  if (part.empty()) part = "mimi";
  return part + "-" + ToHex(r);
}

Status ValidateInstanceId(std::string_view id, std::string_view what) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return InvalidArgumentError(std::string(what) +
                                ": must be 1 to 64 characters");
  }
  for (char c : id) {
    if (!IdChar(c)) {
      return InvalidArgumentError(std::string(what) +
                                  ": only letters, digits, '.', '_' and '-' "
                                  "(it is part of every lease owner)");
    }
  }
  return Status::Ok();
}

Result<InstanceClaim> InstanceClaim::Acquire(const std::string& data_dir,
                                             const std::string& configured,
                                             const RandomSource& random) {
  if (!configured.empty()) {
    MIMI_RETURN_IF_ERROR(ValidateInstanceId(configured, "config: instance.id"));
  }
  const std::string path =
      (std::filesystem::path(data_dir) / kInstanceIdFile).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return InternalError(Errno("instance id: cannot open " + path));
  InstanceClaim claim(fd, "");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status(StatusCode::kFailedPrecondition,
                    "instance id: " + path +
                        " is locked: another mimi-portd runs on this data "
                        "directory");
    }
    return InternalError(Errno("instance id: cannot lock " + path));
  }
  // Under the lock, so that no other process writes it meanwhile.
  struct stat st {};
  if (::fstat(fd, &st) != 0) return InternalError(Errno("instance id: " + path));
  std::string stored;
  if (st.st_size > 0) {
    stored.resize(static_cast<size_t>(std::min<off_t>(st.st_size, 256)));
    const ssize_t n = ::pread(fd, stored.data(), stored.size(), 0);
    if (n < 0) return InternalError(Errno("instance id: cannot read " + path));
    stored.resize(static_cast<size_t>(n));
    while (!stored.empty() && (stored.back() == '\n' || stored.back() == ' ')) {
      stored.pop_back();
    }
    if (!ValidateInstanceId(stored, "").ok()) {
      return MalformedError("instance id: " + path +
                            " does not hold a valid id (1 to 64 of "
                            "[A-Za-z0-9._-]); fix or remove it");
    }
  } else {
    MIMI_ASSIGN_OR_RETURN(stored, MakeInstanceId(random));
    const std::string line = stored + "\n";
    if (::pwrite(fd, line.data(), line.size(), 0) !=
            static_cast<ssize_t>(line.size()) ||
        ::fsync(fd) != 0) {
      return InternalError(Errno("instance id: cannot write " + path));
    }
  }
  claim.id_ = configured.empty() ? stored : configured;
  return claim;
}

InstanceClaim::InstanceClaim(InstanceClaim&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), id_(std::move(other.id_)) {}

InstanceClaim& InstanceClaim::operator=(InstanceClaim&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    id_ = std::move(other.id_);
  }
  return *this;
}

InstanceClaim::~InstanceClaim() {
  // Closing the only descriptor releases the flock.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mimi::daemon
