#include "admin_api/admin_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "mimi_portability/bytes.h"

namespace mimi::admin_api {
namespace {

constexpr size_t kTokenBytes = 32;

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return InternalError(Errno("writing " + path));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<std::string> NewToken() {
  Fd fd(open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return InternalError(Errno("opening /dev/urandom"));
  Bytes bytes(kTokenBytes);
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return InternalError(Errno("reading /dev/urandom"));
    got += static_cast<size_t>(n);
  }
  return ToHex(bytes);
}

// Writes the token under a private temporary name and hard-links it to
// `path`; link() fails with EEXIST instead of replacing, so a token someone
// else created first wins and is read back by the caller.
Status CreateTokenFile(const std::string& path, const std::string& token) {
  std::string tmpl = path + ".XXXXXX";
  int raw = mkstemp(tmpl.data());  // mode 0600
  if (raw < 0) return InternalError(Errno("creating " + tmpl));
  Fd fd(raw);
  Status s = WriteAll(fd.get(), token + "\n", tmpl);
  if (s.ok() && fsync(fd.get()) != 0) s = InternalError(Errno("syncing " + tmpl));
  if (s.ok() && link(tmpl.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    s = InternalError(Errno("creating " + path));
  }
  unlink(tmpl.c_str());
  return s;
}

}  // namespace

std::string AdminTokenPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / kAdminTokenFile).string();
}

Result<std::string> ReadAdminToken(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFoundError(path + ": no admin token file");
    if (errno == ELOOP) {
      return Status(StatusCode::kPermissionDenied,
                    path + ": is a symbolic link; refusing to use it as the "
                           "admin token");
    }
    return InternalError(Errno("opening " + path));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return InternalError(Errno("stat " + path));
  if (!S_ISREG(st.st_mode)) {
    return Status(StatusCode::kPermissionDenied,
                  path + ": not a regular file; refusing to use it as the "
                         "admin token");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    return Status(StatusCode::kPermissionDenied,
                  path + ": mode " + mode +
                      " lets group or others read the admin token; refusing "
                      "to use it (chmod 600 it, or delete it to have a new "
                      "one made)");
  }
  char buf[256];
  std::string content;
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return InternalError(Errno("reading " + path));
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > 1024) break;
  }
  while (!content.empty() &&
         (content.back() == '\n' || content.back() == '\r' ||
          content.back() == ' ')) {
    content.pop_back();
  }
  bool hex = content.size() == 2 * kTokenBytes &&
             content.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (!hex) {
    return MalformedError(path + ": not an admin token (expected " +
                          std::to_string(2 * kTokenBytes) +
                          " lowercase hex digits)");
  }
  return content;
}

Result<std::string> LoadOrCreateAdminToken(const std::string& data_dir) {
  const std::string path = AdminTokenPath(data_dir);
  Result<std::string> existing = ReadAdminToken(path);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) {
    return existing;
  }
  MIMI_ASSIGN_OR_RETURN(std::string token, NewToken());
  MIMI_RETURN_IF_ERROR(CreateTokenFile(path, token));
  // Read back: another process may have created the file first.
  return ReadAdminToken(path);
}

bool AdminTokenMatches(std::string_view expected, std::string_view given) {
  if (expected.size() != given.size() || expected.empty()) return false;
  // volatile keeps the compiler from turning the loop into an early exit.
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff = diff | static_cast<unsigned char>(expected[i] ^ given[i]);
  }
  return diff == 0;
}

}  // namespace mimi::admin_api
