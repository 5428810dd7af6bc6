#include "protocol/client_tokens.h"

#include <fcntl.h>
#include <unistd.h>

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

}  // namespace

Status ClientTokens::ReloadIfChangedLocked() {
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(path_, ec);
  if (ec) {
    name_by_hash_.clear();
    loaded_ = false;
    return Status::Ok();  // no file: nobody is authorised
  }
  if (loaded_ && mtime == loaded_mtime_) return Status::Ok();
  std::ifstream in(path_);
  if (!in) return InternalError("cannot read " + path_.string());
  std::map<std::string, std::string> fresh;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, hash;
    if (!(fields >> name >> hash) || name[0] == '#') continue;
    fresh[hash] = name;
  }
  name_by_hash_ = std::move(fresh);
  loaded_mtime_ = mtime;
  loaded_ = true;
  return Status::Ok();
}

Result<std::string> ClientTokens::Check(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    return Unauthorized("this DS imports groups only for clients holding a "
                        "token it issued (Authorization: Bearer)");
  }
  const std::string hash = TokenHash(authorization.substr(kBearer.size()));
  std::lock_guard<std::mutex> lock(mu_);
  MIMI_RETURN_IF_ERROR(ReloadIfChangedLocked());
  // Lookup by hash: comparing digests leaks nothing useful about a token.
  auto it = name_by_hash_.find(hash);
  if (it == name_by_hash_.end()) return Unauthorized("unknown client token");
  return it->second;
}

Result<std::string> ClientTokens::Issue(const std::filesystem::path& path,
                                        std::string_view name) {
  if (name.empty() || name.find_first_of(" \t\n#") != std::string_view::npos) {
    return InvalidArgumentError("client name must be one word");
  }
  Bytes secret(32);
  MIMI_RETURN_IF_ERROR(crypto::RandomBytes(secret));
  const std::string token = ToHex(secret);
  const std::string line = std::string(name) + " " + TokenHash(token) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return InternalError("cannot open " + path.string());
  const bool ok = ::write(fd, line.data(), line.size()) ==
                      static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return InternalError("cannot write " + path.string());
  return token;
}

}  // namespace mimi::protocol
