// HttpDeliveryService: the DeliveryService interface over HTTP hooks, for
// running mimi-portd beside an operator's existing Delivery Service
// (ds.mode = "http"). Each call is one signed POST to the DS
// (docs/ds-interface.md and docs/ds-hooks.openapi.yaml are the contract):
//
//   LookupGroup        /mimi-hooks/v1/lookup-group
//   LookupTombstone    /mimi-hooks/v1/lookup-tombstone
//   MemberSignatureKey /mimi-hooks/v1/member-key
//   Freeze             /mimi-hooks/v1/freeze
//   Unfreeze           /mimi-hooks/v1/unfreeze
//   ExportGroupState   /mimi-hooks/v1/export
//   ImportGroupState   /mimi-hooks/v1/import
//   FanOutCommit       /mimi-hooks/v1/fan-out
//   DeleteGroup        /mimi-hooks/v1/delete
//
// Byte strings travel as lowercase hex. The DS's refusals come back with the
// reasons the embedded DS uses ("moved", "unknown-group", "group-frozen",
// "epoch-mismatch", "unknown-leaf", "group-exists", "not-frozen") and the
// same Status codes, so the coordinator cannot tell the two apart. The
// mutating hooks carry the migration id and the DS must make them idempotent
// for it; this adapter does not retry by itself — kUnavailable goes back to
// the recovery loop, which repeats the call.
//
// Thread-safe (HookClient pools connections).
#ifndef MIMI_DS_HTTP_HTTP_DELIVERY_SERVICE_H_
#define MIMI_DS_HTTP_HTTP_DELIVERY_SERVICE_H_

#include <memory>
#include <nlohmann/json.hpp>

#include "ds_http/hook_client.h"
#include "mimi_portability/delivery_service.h"

namespace mimi::ds_http {

// Maps a DS's refusal (a signed 4xx answer {"error": reason, "detail": ...})
// to the Status the embedded DS would have returned: 400 kMalformed,
// 403 kPermissionDenied, 404 kNotFound, 409 kAlreadyExists for
// "group-exists" else kFailedPrecondition, 410 kNotFound ("moved"),
// 413 kInvalidArgument, 422 kUnsupported for "unsupported" else
// kInvalidArgument; any other status is kInternal "hook-protocol".
Status StatusFromHookRefusal(const HookReply& reply, std::string_view hook);

class HttpDeliveryService final : public DeliveryService {
 public:
  static Result<std::unique_ptr<HttpDeliveryService>> Create(
      HookClientOptions options, const Clock& clock);

  Result<GroupSummary> LookupGroup(ByteSpan group_id) override;
  Result<Tombstone> LookupTombstone(ByteSpan group_id) override;
  Result<Bytes> MemberSignatureKey(ByteSpan group_id,
                                   uint32_t leaf_index) override;
  Status Freeze(ByteSpan group_id, uint64_t epoch,
                std::string_view migration_id) override;
  Status Unfreeze(ByteSpan group_id, std::string_view migration_id) override;
  Result<Bytes> ExportGroupState(ByteSpan group_id, ByteSpan commit,
                                 std::string_view migration_id) override;
  Status ImportGroupState(ByteSpan group_state,
                          std::string_view migration_id) override;
  Status FanOutCommit(ByteSpan group_id, ByteSpan commit,
                      std::string_view migration_id) override;
  Status DeleteGroup(ByteSpan group_id, const Tombstone& tombstone,
                     std::string_view migration_id) override;

 private:
  explicit HttpDeliveryService(std::unique_ptr<HookClient> client)
      : client_(std::move(client)) {}
  // The 2xx answer's body, or the refusal as a Status.
  Result<nlohmann::json> Call(std::string_view hook,
                              const nlohmann::json& body);

  std::unique_ptr<HookClient> client_;
};

}  // namespace mimi::ds_http

#endif  // MIMI_DS_HTTP_HTTP_DELIVERY_SERVICE_H_
