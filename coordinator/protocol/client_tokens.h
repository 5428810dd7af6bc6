// ClientTokens: who may import groups into this DS as a target (the draft's
// default policy: clients allowed to create groups here). The operator issues
// a token per client (`mimi-portctl tokens issue NAME`); the client presents
// it as `Authorization: Bearer <token>` on POST /request.
//
// The file (<data_dir>/client_tokens, mode 0600) holds one "name sha256hex"
// line per client, never the tokens themselves, so a copy of it grants
// nothing. It is re-read when its modification time changes, so issuing or
// revoking needs no restart. Thread-safe.
#ifndef MIMI_PROTOCOL_CLIENT_TOKENS_H_
#define MIMI_PROTOCOL_CLIENT_TOKENS_H_

#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "mimi_portability/status.h"

namespace mimi::protocol {

class ClientTokens {
 public:
  explicit ClientTokens(std::filesystem::path path) : path_(std::move(path)) {}

  // The client's name if `authorization` (the header's value) carries a
  // known token; kPermissionDenied (reason "unauthorized") otherwise.
  Result<std::string> Check(std::string_view authorization);

  // Creates a token for `name`, records its hash, returns the token.
  static Result<std::string> Issue(const std::filesystem::path& path,
                                   std::string_view name);

 private:
  Status ReloadIfChangedLocked();

  const std::filesystem::path path_;
  std::mutex mu_;
  std::filesystem::file_time_type loaded_mtime_{};
  bool loaded_ = false;
  std::map<std::string, std::string> name_by_hash_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_CLIENT_TOKENS_H_
