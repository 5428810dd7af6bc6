#include "ds_http/http_delivery_service.h"

#include "mimi_portability/ds_reason.h"
#include "mimi_portability/group_state.h"

namespace mimi::ds_http {
namespace {

using nlohmann::json;

constexpr char kLookupGroup[] = "/mimi-hooks/v1/lookup-group";
constexpr char kLookupTombstone[] = "/mimi-hooks/v1/lookup-tombstone";
constexpr char kMemberKey[] = "/mimi-hooks/v1/member-key";
constexpr char kFreeze[] = "/mimi-hooks/v1/freeze";
constexpr char kUnfreeze[] = "/mimi-hooks/v1/unfreeze";
constexpr char kExport[] = "/mimi-hooks/v1/export";
constexpr char kImport[] = "/mimi-hooks/v1/import";
constexpr char kFanOut[] = "/mimi-hooks/v1/fan-out";
constexpr char kDelete[] = "/mimi-hooks/v1/delete";

// A 2xx body that breaks the contract is the DS's bug; retrying will not fix
// it, so it is not kUnavailable.
Status BadAnswer(std::string_view hook, std::string what) {
  return Status(StatusCode::kInternal, "hook-bad-response",
                "DS hook " + std::string(hook) + ": " + std::move(what));
}

Result<Bytes> HexField(const json& body, std::string_view hook,
                       const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) {
    return BadAnswer(hook, std::string(name) + ": missing or not a string");
  }
  auto bytes = FromHex(it->get<std::string>());
  if (!bytes.ok())
    return BadAnswer(hook, std::string(name) + ": " + bytes.status().detail());
  return bytes;
}

Result<uint64_t> UintField(const json& body, std::string_view hook,
                           const char* name, uint64_t max) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_number_unsigned() ||
      it->get<uint64_t>() > max) {
    return BadAnswer(hook, std::string(name) + ": missing or out of range");
  }
  return it->get<uint64_t>();
}

}  // namespace

Status StatusFromHookRefusal(const HookReply& reply, std::string_view hook) {
  std::string reason;
  if (auto it = reply.body.find("error");
      it != reply.body.end() && it->is_string()) {
    reason = it->get<std::string>();
  }
  std::string detail = "DS hook " + std::string(hook) + ": ";
  if (auto it = reply.body.find("detail");
      it != reply.body.end() && it->is_string()) {
    detail += it->get<std::string>();
  } else {
    detail += "HTTP " + std::to_string(reply.http_status);
  }
  if (reason.empty()) {
    return Status(StatusCode::kInternal, "hook-protocol",
                  detail + " (refusal without an \"error\" reason)");
  }
  StatusCode code;
  switch (reply.http_status) {
    case 400:
      code = StatusCode::kMalformed;
      break;
    case 403:
      code = reason == "bad-signature" ? StatusCode::kBadSignature
                                       : StatusCode::kPermissionDenied;
      break;
    case 404:
      code = StatusCode::kNotFound;
      break;
    case 409:
      code = reason == ds_reason::kGroupExists || reason == "already-exists"
                 ? StatusCode::kAlreadyExists
                 : StatusCode::kFailedPrecondition;
      break;
    case 410:
      code = StatusCode::kNotFound;
      break;
    case 413:
      code = StatusCode::kInvalidArgument;
      break;
    case 422:
      code = reason == "unsupported" ? StatusCode::kUnsupported
                                     : StatusCode::kInvalidArgument;
      break;
    default:
      return Status(StatusCode::kInternal, "hook-protocol",
                    detail + " (unexpected HTTP " +
                        std::to_string(reply.http_status) + ")");
  }
  // A bare code name stays implicit, as the embedded DS leaves it.
  if (reason == StatusCodeName(code)) return Status(code, std::move(detail));
  return Status(code, std::move(reason), std::move(detail));
}

Result<std::unique_ptr<HttpDeliveryService>> HttpDeliveryService::Create(
    HookClientOptions options, const Clock& clock) {
  MIMI_ASSIGN_OR_RETURN(auto client,
                        HookClient::Create(std::move(options), clock));
  return std::unique_ptr<HttpDeliveryService>(
      new HttpDeliveryService(std::move(client)));
}

Result<json> HttpDeliveryService::Call(std::string_view hook,
                                       const json& body) {
  MIMI_ASSIGN_OR_RETURN(HookReply reply, client_->Call(hook, body));
  if (reply.http_status >= 200 && reply.http_status < 300)
    return std::move(reply.body);
  return StatusFromHookRefusal(reply, hook);
}

Result<GroupSummary> HttpDeliveryService::LookupGroup(ByteSpan group_id) {
  MIMI_ASSIGN_OR_RETURN(json a,
                        Call(kLookupGroup, {{"group_id", ToHex(group_id)}}));
  GroupSummary s;
  MIMI_ASSIGN_OR_RETURN(s.group_id, HexField(a, kLookupGroup, "group_id"));
  if (s.group_id != Bytes(group_id.begin(), group_id.end())) {
    return BadAnswer(kLookupGroup, "group_id: not the group asked for");
  }
  MIMI_ASSIGN_OR_RETURN(s.epoch,
                        UintField(a, kLookupGroup, "epoch", UINT64_MAX));
  MIMI_ASSIGN_OR_RETURN(uint64_t suite,
                        UintField(a, kLookupGroup, "cipher_suite", 0xffff));
  s.ciphersuite = static_cast<uint16_t>(suite);
  auto frozen = a.find("frozen");
  if (frozen == a.end() || !frozen->is_boolean()) {
    return BadAnswer(kLookupGroup, "frozen: missing or not a boolean");
  }
  s.frozen = frozen->get<bool>();
  if (auto m = a.find("migration_id"); m != a.end() && !m->is_null()) {
    if (!m->is_string())
      return BadAnswer(kLookupGroup, "migration_id: not a string");
    s.migration_id = m->get<std::string>();
  }
  if (s.frozen && s.migration_id.empty()) {
    return BadAnswer(kLookupGroup,
                     "frozen without the migration that froze it");
  }
  return s;
}

Result<Tombstone> HttpDeliveryService::LookupTombstone(ByteSpan group_id) {
  MIMI_ASSIGN_OR_RETURN(
      json a, Call(kLookupTombstone, {{"group_id", ToHex(group_id)}}));
  Tombstone t;
  t.group_id.assign(group_id.begin(), group_id.end());
  auto moved_to = a.find("moved_to");
  if (moved_to == a.end() || !moved_to->is_string() ||
      moved_to->get<std::string>().empty()) {
    return BadAnswer(kLookupTombstone, "moved_to: missing");
  }
  t.moved_to = moved_to->get<std::string>();
  auto at = a.find("moved_at_ms");
  if (at == a.end() || !at->is_number_integer()) {
    return BadAnswer(kLookupTombstone, "moved_at_ms: missing");
  }
  t.moved_at_ms = at->get<int64_t>();
  MIMI_ASSIGN_OR_RETURN(t.confirmation,
                        HexField(a, kLookupTombstone, "confirmation"));
  return t;
}

Result<Bytes> HttpDeliveryService::MemberSignatureKey(ByteSpan group_id,
                                                      uint32_t leaf_index) {
  MIMI_ASSIGN_OR_RETURN(json a, Call(kMemberKey, {{"group_id", ToHex(group_id)},
                                                  {"leaf_index", leaf_index}}));
  MIMI_ASSIGN_OR_RETURN(Bytes key, HexField(a, kMemberKey, "signature_key"));
  if (key.empty()) return BadAnswer(kMemberKey, "signature_key: empty");
  return key;
}

Status HttpDeliveryService::Freeze(ByteSpan group_id, uint64_t epoch,
                                   std::string_view migration_id) {
  return Call(kFreeze, {{"group_id", ToHex(group_id)},
                        {"epoch", epoch},
                        {"migration_id", migration_id}})
      .status();
}

Status HttpDeliveryService::Unfreeze(ByteSpan group_id,
                                     std::string_view migration_id) {
  return Call(kUnfreeze,
              {{"group_id", ToHex(group_id)}, {"migration_id", migration_id}})
      .status();
}

Result<Bytes> HttpDeliveryService::ExportGroupState(
    ByteSpan group_id, ByteSpan commit, std::string_view migration_id) {
  MIMI_ASSIGN_OR_RETURN(json a,
                        Call(kExport, {{"group_id", ToHex(group_id)},
                                       {"commit", ToHex(commit)},
                                       {"migration_id", migration_id}}));
  MIMI_ASSIGN_OR_RETURN(Bytes state, HexField(a, kExport, "group_state"));
  // The state goes into a signed MigrationContent; catch a DS's bad export
  // here rather than at the target.
  auto decoded = DecodeGroupState(state);
  if (!decoded.ok())
    return BadAnswer(kExport, "group_state: " + decoded.status().ToString());
  if (decoded->group_id != Bytes(group_id.begin(), group_id.end()) ||
      decoded->migration_commit != Bytes(commit.begin(), commit.end())) {
    return BadAnswer(kExport, "group_state: not this group with this commit");
  }
  return state;
}

Status HttpDeliveryService::ImportGroupState(ByteSpan group_state,
                                             std::string_view migration_id) {
  return Call(kImport, {{"group_state", ToHex(group_state)},
                        {"migration_id", migration_id}})
      .status();
}

Status HttpDeliveryService::FanOutCommit(ByteSpan group_id, ByteSpan commit,
                                         std::string_view migration_id) {
  return Call(kFanOut, {{"group_id", ToHex(group_id)},
                        {"commit", ToHex(commit)},
                        {"migration_id", migration_id}})
      .status();
}

Status HttpDeliveryService::DeleteGroup(ByteSpan group_id,
                                        const Tombstone& tombstone,
                                        std::string_view migration_id) {
  // A group that left under another migration is "moved" (410, kNotFound),
  // as for every other hook.
  return Call(kDelete, {{"group_id", ToHex(group_id)},
                        {"migration_id", migration_id},
                        {"tombstone",
                         {{"moved_to", tombstone.moved_to},
                          {"moved_at_ms", tombstone.moved_at_ms},
                          {"confirmation", ToHex(tombstone.confirmation)}}}})
      .status();
}

}  // namespace mimi::ds_http
