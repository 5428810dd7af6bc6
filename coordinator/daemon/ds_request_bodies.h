// The JSON bodies of the embedded DS's member API (daemon/ds_routes.h,
// docs/ds-api.md): a JSON object whose byte-string members are lowercase
// hex. These are the parsers the routes run on the bytes a client sent,
// apart from the routes so that a fuzz target (tests/fuzz/) reaches them
// without an HTTP server or a database.
//
// Each parser gives the body's fields, or kMalformed whose detail names the
// field ("commit: missing", "body: expected a JSON object"); unknown members
// are ignored. Each Serialize function writes the body a client sends, which
// its parser reads back to the same value.
//
// Pure functions; thread-safe.
#ifndef MIMI_DAEMON_DS_REQUEST_BODIES_H_
#define MIMI_DAEMON_DS_REQUEST_BODIES_H_

#include <string>
#include <string_view>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::daemon {

// POST /ds/v1/groups.
struct CreateGroupBody {
  Bytes group_info;
  Bytes ratchet_tree;
  // Optional: the group's id, which lets a refusal as `moved` name where the
  // group went; empty when absent.
  Bytes group_id;

  bool operator==(const CreateGroupBody&) const = default;
};

// POST /ds/v1/groups/{group_id}/commits.
struct CommitBody {
  Bytes commit;
  Bytes ratchet_tree;
  Bytes group_info;

  bool operator==(const CommitBody&) const = default;
};

// POST /ds/v1/groups/{group_id}/messages.
struct MessageBody {
  Bytes message;

  bool operator==(const MessageBody&) const = default;
};

Result<CreateGroupBody> ParseCreateGroupBody(std::string_view text);
Result<CommitBody> ParseCommitBody(std::string_view text);
Result<MessageBody> ParseMessageBody(std::string_view text);

std::string SerializeBody(const CreateGroupBody& body);
std::string SerializeBody(const CommitBody& body);
std::string SerializeBody(const MessageBody& body);

}  // namespace mimi::daemon

#endif  // MIMI_DAEMON_DS_REQUEST_BODIES_H_
