// The admin API's bearer token: 32 random bytes as 64 lowercase hex digits
// in <data_dir>/admin.token, created with mode 0600 on the daemon's first
// start and read by mimi-portctl.
//
// A token file that group or others may read is refused rather than used:
// anyone who can read it can abort migrations. Creation is atomic (written
// under a temporary name, then hard-linked into place), so two daemons
// starting at once agree on one token and nobody reads half a file.
// The daemon creates and checks it; the CLI reads it. Stateless functions;
// safe from any thread.
#ifndef MIMI_ADMIN_API_ADMIN_TOKEN_H_
#define MIMI_ADMIN_API_ADMIN_TOKEN_H_

#include <string>
#include <string_view>

#include "mimi_portability/status.h"

namespace mimi::admin_api {

inline constexpr char kAdminTokenFile[] = "admin.token";

std::string AdminTokenPath(const std::string& data_dir);

// The token of <data_dir>/admin.token, created if missing. Errors:
// kPermissionDenied for a group/world-readable file or one that is not a
// regular file, kMalformed for content that is not 64 hex digits, kInternal
// when the file or the randomness cannot be had.
Result<std::string> LoadOrCreateAdminToken(const std::string& data_dir);

// Reads an existing token file with the same checks; kNotFound if missing.
Result<std::string> ReadAdminToken(const std::string& path);

// Compares in time that depends only on the lengths, so that a caller
// cannot find the token byte by byte from response times.
bool AdminTokenMatches(std::string_view expected, std::string_view given);

}  // namespace mimi::admin_api

#endif  // MIMI_ADMIN_API_ADMIN_TOKEN_H_
