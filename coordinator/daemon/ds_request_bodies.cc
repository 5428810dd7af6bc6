#include "daemon/ds_request_bodies.h"

#include <nlohmann/json.hpp>

#include "codec/json_text.h"

namespace mimi::daemon {
namespace {

using nlohmann::json;

Result<json> ParseObject(std::string_view text) {
  json body = codec::ParseJson(text);
  if (body.is_discarded() || !body.is_object()) {
    return MalformedError("body: expected a JSON object");
  }
  return body;
}

// A hex member; absent or null is an error when `required`, else empty.
Result<Bytes> HexField(const json& body, const char* name, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return MalformedError(std::string(name) + ": missing");
    return Bytes{};
  }
  if (!it->is_string()) {
    return MalformedError(std::string(name) + ": expected hex string");
  }
  auto bytes = FromHex(it->get<std::string>());
  if (!bytes.ok()) {
    return MalformedError(std::string(name) + ": " + bytes.status().detail());
  }
  return bytes;
}

}  // namespace

Result<CreateGroupBody> ParseCreateGroupBody(std::string_view text) {
  MIMI_ASSIGN_OR_RETURN(json j, ParseObject(text));
  CreateGroupBody b;
  MIMI_ASSIGN_OR_RETURN(b.group_info, HexField(j, "group_info", true));
  MIMI_ASSIGN_OR_RETURN(b.ratchet_tree, HexField(j, "ratchet_tree", true));
  // Read like the other members: json::value() would throw on a non-string
  // (a 500 from the route's catch-all instead of a 400).
  MIMI_ASSIGN_OR_RETURN(b.group_id, HexField(j, "group_id", false));
  return b;
}

Result<CommitBody> ParseCommitBody(std::string_view text) {
  MIMI_ASSIGN_OR_RETURN(json j, ParseObject(text));
  CommitBody b;
  MIMI_ASSIGN_OR_RETURN(b.commit, HexField(j, "commit", true));
  MIMI_ASSIGN_OR_RETURN(b.ratchet_tree, HexField(j, "ratchet_tree", true));
  MIMI_ASSIGN_OR_RETURN(b.group_info, HexField(j, "group_info", true));
  return b;
}

Result<MessageBody> ParseMessageBody(std::string_view text) {
  MIMI_ASSIGN_OR_RETURN(json j, ParseObject(text));
  MessageBody b;
  MIMI_ASSIGN_OR_RETURN(b.message, HexField(j, "message", true));
  return b;
}

std::string SerializeBody(const CreateGroupBody& body) {
  json j = {{"group_info", ToHex(body.group_info)},
            {"ratchet_tree", ToHex(body.ratchet_tree)}};
  if (!body.group_id.empty()) j["group_id"] = ToHex(body.group_id);
  return codec::DumpJson(j);
}

std::string SerializeBody(const CommitBody& body) {
  return codec::DumpJson({{"commit", ToHex(body.commit)},
                          {"ratchet_tree", ToHex(body.ratchet_tree)},
                          {"group_info", ToHex(body.group_info)}});
}

std::string SerializeBody(const MessageBody& body) {
  return codec::DumpJson({{"message", ToHex(body.message)}});
}

}  // namespace mimi::daemon
