// TargetService: the Target DS's side of a migration (docs/protocol.md §3
// "Endpoints", §4 "States", §5 "Authorization").
//
//   HandleRequest: MigrationRequest -> signed MigrationResponse with a fresh
//                  nonce, stored durably before it is answered.
//   HandleContent: MigrationContent -> the group imported into the DS and a
//                  signed TargetMigrationComplete; the same content again gets
//                  the same bytes, other content under a used nonce a refusal.
//                  The content is held once, in the received body.
//   HandleAbort:   MigrationAbort -> MigrationAbortAck burning the nonce, or,
//                  if the group was already imported, the
//                  TargetMigrationComplete (the source then rolls forward).
//   ExpireIfDue:   recovery: a requested nonce past its expiry becomes expired.
//
// Every refusal is a Status with a stable reason and leaves the store and the
// DS as they were. Work on one migration holds its store lease, except the
// content's import with a joined DS (ctx.joined_ds), which is one
// transaction that only a row still `requested` lets through. Thread-safe.
#ifndef MIMI_PROTOCOL_TARGET_SERVICE_H_
#define MIMI_PROTOCOL_TARGET_SERVICE_H_

#include <functional>
#include <optional>
#include <string>

#include "protocol/content_body.h"
#include "protocol/context.h"

namespace mimi::protocol {

struct AbortAnswer {
  bool acknowledged = false;  // true: MigrationAbortAck; false: TMC (409)
  Bytes body;
};

class TargetService {
 public:
  explicit TargetService(const ProtocolContext& ctx) : ctx_(ctx) {}

  // `suite_header` is the MIMI-Cipher-Suite header's value if present;
  // `authorization` the Authorization header's.
  Result<Bytes> HandleRequest(ByteSpan body,
                              const std::optional<std::string>& suite_header,
                              const std::string& authorization);
  // The body as the HTTP route streamed it in (content_body.h): decoded from
  // views of it, hashed as it arrived, checked and stored without a copy.
  Result<Bytes> HandleContent(ContentBody body);
  // The same for a body already in memory (a copy is made).
  Result<Bytes> HandleContent(ByteSpan body);
  Result<AbortAnswer> HandleAbort(ByteSpan body);

  // Recovery for a target row: expires a requested migration past its expiry
  // unless the DS already holds the group for it.
  Status ExpireIfDue(const store::MigrationRecord& row);

 private:
  // The content's checks, the import and its record; the caller holds the
  // row's lease, or, with a joined DS, needs none (the import and its record
  // are one transaction from `requested`).
  Result<Bytes> ContentLocked(const MigrationContentView& content,
                              ContentBody& body,
                              const store::MigrationRecord& row);
  // The answer to content for a row that is past `requested` (imported:
  // the stored TargetMigrationComplete if `hash` is its content's), or
  // nullopt while it is `requested`.
  std::optional<Result<Bytes>> SettledAnswer(
      const store::MigrationRecord& row,
      const std::function<Result<Bytes>()>& hash);
  // With a joined DS: imports and records in one transaction; a row that
  // another delivery, an abort or the expiry moved on meanwhile is answered
  // as it now stands.
  // `group_state` is the content's view of it in `body`.
  Result<Bytes> ImportJoined(const store::MigrationRecord& row,
                             ContentBody& body, ByteSpan group_state,
                             Bytes hash, Bytes complete_bytes);

  const ProtocolContext& ctx_;
};

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_TARGET_SERVICE_H_
