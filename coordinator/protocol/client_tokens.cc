#include "protocol/client_tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "mimi_portability/bytes.h"
#include "protocol/refusal.h"

namespace mimi::protocol {
namespace {

std::string TokenHash(std::string_view token) {
  auto h = crypto::Hash(crypto::HashAlgorithm::kSha256, ToBytes(token));
  return h.ok() ? ToHex(*h) : std::string();
}

Status Unauthorized(std::string detail) {
  return Refuse(StatusCode::kPermissionDenied, reason::kUnauthorized,
                std::move(detail));
}

std::optional<int64_t> ParseInt(std::string_view v) {
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  return out;
}

struct Line {
  ClientTokenInfo info;
  std::string hash;
};

// One line of the file; nullopt for comments, blank lines and lines this
// version cannot read. An `expires` that does not parse drops the line: a
// token whose expiry is unknown is not honoured.
std::optional<Line> ParseLine(const std::string& text) {
  std::istringstream fields(text);
  Line line;
  if (!(fields >> line.info.name >> line.hash) || line.info.name[0] == '#') {
    return std::nullopt;
  }
  std::string extra;
  while (fields >> extra) {
    const size_t eq = extra.find('=');
    if (eq == std::string::npos) continue;  // room for later fields
    const std::string key = extra.substr(0, eq);
    const std::optional<int64_t> value = ParseInt(std::string_view(extra).substr(eq + 1));
    if (key == "created") {
      line.info.created_ms = value;
    } else if (key == "expires") {
      if (!value) return std::nullopt;
      line.info.expires_ms = value;
    }
  }
  return line;
}

Result<std::vector<Line>> ReadLines(const std::filesystem::path& path,
                                    std::vector<std::string>* raw = nullptr) {
  std::vector<Line> out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  std::ifstream in(path);
  if (!in) return InternalError("cannot read " + path.string());
  std::string text;
  while (std::getline(in, text)) {
    if (raw != nullptr) raw->push_back(text);
    if (auto line = ParseLine(text)) out.push_back(std::move(*line));
  }
  if (in.bad()) return InternalError("cannot read " + path.string());
  return out;
}

Status WriteAll(int fd, const std::string& data, const std::string& what) {
  const bool ok = ::write(fd, data.data(), data.size()) ==
                      static_cast<ssize_t>(data.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : InternalError("cannot write " + what);
}

}  // namespace

Status ClientTokens::ReloadIfChangedLocked() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    by_hash_.clear();
    loaded_.reset();
    return Status::Ok();  // no file: nobody is authorised
  }
  const FileId id{static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                      st.st_mtim.tv_nsec,
                  static_cast<int64_t>(st.st_size), st.st_ino};
  if (loaded_ && *loaded_ == id) return Status::Ok();
  MIMI_ASSIGN_OR_RETURN(std::vector<Line> lines, ReadLines(path_));
  std::map<std::string, Entry> fresh;
  for (Line& l : lines) {
    fresh[l.hash] = Entry{std::move(l.info.name), l.info.expires_ms};
  }
  by_hash_ = std::move(fresh);
  loaded_ = id;
  return Status::Ok();
}

Result<std::string> ClientTokens::Check(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    return Unauthorized("this DS imports groups only for clients holding a "
                        "token it issued (Authorization: Bearer)");
  }
  const std::string hash = TokenHash(authorization.substr(kBearer.size()));
  MutexLock lock(mu_);
  MIMI_RETURN_IF_ERROR(ReloadIfChangedLocked());
  // Lookup by hash: comparing digests leaks nothing useful about a token.
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return Unauthorized("unknown client token");
  if (it->second.expires_ms && *it->second.expires_ms <= clock_.NowMillis()) {
    return Unauthorized("the client token of " + it->second.name +
                        " expired at " + std::to_string(*it->second.expires_ms) +
                        " ms");
  }
  return it->second.name;
}

Result<std::string> ClientTokens::Issue(const std::filesystem::path& path,
                                        std::string_view name,
                                        std::optional<UnixMillis> expires_ms,
                                        const Clock& clock) {
  if (name.empty() || name.find_first_of(" \t\n#") != std::string_view::npos) {
    return InvalidArgumentError("client name must be one word");
  }
  const UnixMillis now = clock.NowMillis();
  if (expires_ms && *expires_ms <= now) {
    return InvalidArgumentError("the expiry " + std::to_string(*expires_ms) +
                                " ms is not in the future");
  }
  Bytes secret(32);
  MIMI_RETURN_IF_ERROR(crypto::RandomBytes(secret));
  const std::string token = ToHex(secret);
  std::string line = std::string(name) + " " + TokenHash(token) +
                     " created=" + std::to_string(now);
  if (expires_ms) line += " expires=" + std::to_string(*expires_ms);
  line += "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return InternalError("cannot open " + path.string());
  MIMI_RETURN_IF_ERROR(WriteAll(fd, line, path.string()));
  return token;
}

Result<std::vector<ClientTokenInfo>> ClientTokens::List(
    const std::filesystem::path& path) {
  MIMI_ASSIGN_OR_RETURN(std::vector<Line> lines, ReadLines(path));
  std::vector<ClientTokenInfo> out;
  for (Line& l : lines) out.push_back(std::move(l.info));
  return out;
}

Result<size_t> ClientTokens::Revoke(const std::filesystem::path& path,
                                    std::string_view name) {
  std::vector<std::string> raw;
  MIMI_RETURN_IF_ERROR(ReadLines(path, &raw).status());
  std::string kept;
  size_t removed = 0;
  for (const std::string& text : raw) {
    std::optional<Line> line = ParseLine(text);
    if (line && line->info.name == name) {
      ++removed;
      continue;
    }
    kept += text + "\n";  // comments and unreadable lines stay as they were
  }
  if (removed == 0) {
    return NotFoundError("no client token named " + std::string(name));
  }
  // A new file renamed over the old one: a reader sees the old or the new
  // list, never half of one, and the daemon notices the new inode.
  const std::filesystem::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return InternalError("cannot create " + tmp.string());
  MIMI_RETURN_IF_ERROR(WriteAll(fd, kept, tmp.string()));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return InternalError("cannot replace " + path.string());
  }
  const std::filesystem::path dir =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return removed;
}

}  // namespace mimi::protocol
