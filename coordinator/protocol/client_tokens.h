// ClientTokens: who may import groups into this DS as a target (the draft's
// default policy: clients allowed to create groups here), and create groups
// at its embedded DS. The operator issues a token per client (`mimi-portctl
// tokens issue NAME [--expires-in D | --expires-at T]`), lists them and
// revokes them (`tokens list`, `tokens revoke NAME`); the client presents
// one as `Authorization: Bearer <token>`.
//
// The file (<data_dir>/client_tokens, mode 0600) holds one line per token,
//   NAME SHA256HEX [created=UNIX_MS] [expires=UNIX_MS]
// never the tokens themselves, so a copy of it grants nothing. Lines from
// before expiry existed ("NAME SHA256HEX") still load: created unknown, no
// expiry. A token whose `expires` is not after the injected Clock's now is
// refused. The file is re-read when its modification time, size or inode
// changes (revoking replaces it by rename), so issuing and revoking need no
// restart. Check is thread-safe; the static file operations are for the CLI,
// one at a time (Issue appends, Revoke rewrites: a revocation that races an
// issue may drop the new line, which the operator then sees in `list`).
#ifndef MIMI_PROTOCOL_CLIENT_TOKENS_H_
#define MIMI_PROTOCOL_CLIENT_TOKENS_H_

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codec/mutex.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/status.h"

namespace mimi::protocol {

// One line of the file, without its hash.
struct ClientTokenInfo {
  std::string name;
  std::optional<UnixMillis> created_ms;  // absent in lines from before expiry
  std::optional<UnixMillis> expires_ms;  // absent: never expires
  bool operator==(const ClientTokenInfo&) const = default;
};

class ClientTokens {
 public:
  explicit ClientTokens(std::filesystem::path path,
                        const Clock& clock = SystemClock::Get())
      : path_(std::move(path)), clock_(clock) {}

  // The client's name if `authorization` (the header's value) carries a
  // known token that has not expired; kPermissionDenied (reason
  // "unauthorized") otherwise.
  Result<std::string> Check(std::string_view authorization) EXCLUDES(mu_);

  // Creates a token for `name`, records its hash (created now, expiring at
  // `expires_ms` if given; it must be later than now), returns the token.
  static Result<std::string> Issue(
      const std::filesystem::path& path, std::string_view name,
      std::optional<UnixMillis> expires_ms = std::nullopt,
      const Clock& clock = SystemClock::Get());
  // Every token on file, in file order (empty without a file).
  static Result<std::vector<ClientTokenInfo>> List(
      const std::filesystem::path& path);
  // Removes every token of `name` (atomically: a new file renamed over the
  // old one); returns how many. kNotFound if there is none.
  static Result<size_t> Revoke(const std::filesystem::path& path,
                               std::string_view name);

 private:
  struct Entry {
    std::string name;
    std::optional<UnixMillis> expires_ms;
  };
  Status ReloadIfChangedLocked() REQUIRES(mu_);

  const std::filesystem::path path_;
  const Clock& clock_;
  Mutex mu_;
  // What the loaded file looked like: a change in any of them reloads.
  struct FileId {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    ino_t inode = 0;
    bool operator==(const FileId&) const = default;
  };
  std::optional<FileId> loaded_ GUARDED_BY(mu_);
  std::map<std::string, Entry> by_hash_ GUARDED_BY(mu_);
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_CLIENT_TOKENS_H_
