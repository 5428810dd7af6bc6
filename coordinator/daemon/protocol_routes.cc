#include "daemon/protocol_routes.h"

#include "keys/key_document_handler.h"
#include "mimi_portability/ds_reason.h"
#include "mimi_portability/endpoints.h"
#include "protocol/refusal.h"
#include "store/transitions.h"

namespace mimi::daemon {
namespace {

using endpoints::kMediaType;

// The media type must be exactly ours (case-insensitive, RFC 9110 §8.3.1);
// parameters after ';' are allowed and ignored, so a prefix such as
// kMediaType + "X" is not.
bool IsOurContentType(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
    type.remove_suffix(1);
  }
  const std::string_view ours = kMediaType;
  if (type.size() != ours.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != ours[i]) return false;
  }
  return true;
}

bool CheckContentType(const httplib::Request& req, httplib::Response& res) {
  if (IsOurContentType(req.get_header_value("Content-Type"))) return true;
  ReplyError(res, protocol::Refuse(StatusCode::kInvalidArgument,
                                   protocol::reason::kWrongContentType,
                                   "expected Content-Type " +
                                       std::string(kMediaType)));
  return false;
}

ByteSpan BodyBytes(const httplib::Request& req) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(req.body.data()),
                  req.body.size());
}

void ReplyMessage(httplib::Response& res, int status, const Bytes& bytes) {
  res.status = status;
  res.set_content(std::string(bytes.begin(), bytes.end()), kMediaType);
}

// A refusal; "moved" groups also name where they went.
void ReplyRefusal(httplib::Response& res, const protocol::ProtocolContext& ctx,
                  ByteSpan group_id, const Status& s) {
  if (s.reason() == ds_reason::kMoved && !group_id.empty()) {
    auto tomb = ctx.ds->LookupTombstone(group_id);
    if (tomb.ok()) return ReplyError(res, s, {{"moved_to", tomb->moved_to}});
  }
  ReplyError(res, s);
}

std::string StatusPath(const std::string& id) {
  return endpoints::kStatusPathPrefix + id;
}

}  // namespace

void RegisterProtocolRoutes(HttpServer& server, const protocol::ProtocolContext& ctx,
                            protocol::SourceService& source,
                            protocol::TargetService& target,
                            const ProtocolRoutesOptions& options) {
  server.Get(std::string(keys::kKeyDocumentPath),
             keys::KeyDocumentHandler(ctx.domain, *ctx.keys, *ctx.clock,
                                      options.key_document_validity_ms));

  server.Post(endpoints::kRequestPath,
              [&target](const httplib::Request& req, httplib::Response& res) {
                if (!CheckContentType(req, res)) return;
                std::optional<std::string> suite;
                if (req.has_header("MIMI-Cipher-Suite")) {
                  suite = req.get_header_value("MIMI-Cipher-Suite");
                }
                auto answer = target.HandleRequest(
                    BodyBytes(req), suite, req.get_header_value("Authorization"));
                if (!answer.ok()) return ReplyError(res, answer.status());
                ReplyMessage(res, 200, *answer);
              });

  server.Post(endpoints::kInitPath, [&ctx, &source, options](
                                        const httplib::Request& req,
                                        httplib::Response& res) {
    if (!CheckContentType(req, res)) return;
    auto answer = source.HandleInit(BodyBytes(req), options.init_wait);
    if (!answer.ok()) {
      // For "moved", name the new home of the group the request was about.
      Bytes group_id;
      if (auto init = Decode<MigrationInitRequest>(BodyBytes(req)); init.ok()) {
        group_id = init->migration_init.migration_response.migration_request.group_id;
      }
      return ReplyRefusal(res, ctx, group_id, answer.status());
    }
    if (answer->confirmed) return ReplyMessage(res, 200, answer->confirmation);
    res.set_header("Location", StatusPath(answer->id));
    ReplyJson(res, 202, {{"id", answer->id},
                         {"state", answer->state},
                         {"status", StatusPath(answer->id)}});
  });

  // Streamed (docs/protocol.md, "Streamed content"): the body goes into one
  // buffer as it arrives, hashed on the way, and is decoded, checked and
  // stored from there. The checks and refusals are those of every route:
  // the limit first, then the content type, then the message.
  server.PostStreaming(
      endpoints::kContentPath,
      [&target](const httplib::Request& req, httplib::Response& res,
                const HttpServer::BodyReader& read_body) {
        std::optional<protocol::ContentBody> body;
        const bool read = read_body(
            [&body](uint64_t declared) { body.emplace(declared); },
            [&body](ByteSpan piece) { body->Append(piece); });
        if (!read) return;
        if (!CheckContentType(req, res)) return;
        auto answer = target.HandleContent(std::move(*body));
        if (!answer.ok()) return ReplyError(res, answer.status());
        ReplyMessage(res, 200, *answer);
      });

  server.Post(endpoints::kAbortPath,
              [&target](const httplib::Request& req, httplib::Response& res) {
                if (!CheckContentType(req, res)) return;
                auto answer = target.HandleAbort(BodyBytes(req));
                if (!answer.ok()) return ReplyError(res, answer.status());
                ReplyMessage(res, answer->acknowledged ? 200 : 409, answer->body);
              });

  // Either case: the id is a nonce's hex, and the admin API and mimi-portctl
  // accept both too.
  server.Get(std::string(endpoints::kStatusPathPrefix) + "([0-9a-fA-F]{64})",
             [&ctx](const httplib::Request& req, httplib::Response& res) {
               auto parsed = store::ParseMigrationId(req.matches[1].str());
               if (!parsed.ok()) return ReplyError(res, parsed.status());
               const std::string& id = *parsed;
               auto rows = ctx.store->GetById(id);
               if (!rows.ok()) return ReplyError(res, rows.status());
               if (rows->empty()) {
                 return ReplyError(res, NotFoundError("no migration " + id));
               }
               // The source's view answers the client; a target-only DS
               // answers with its own.
               const store::MigrationRecord* row = &rows->front();
               for (const auto& r : *rows) {
                 if (r.role == store::Role::kSource) row = &r;
               }
               nlohmann::json body = {{"id", id},
                                      {"role", store::RoleName(row->role)},
                                      {"state", store::StateName(row->state)},
                                      {"group_id", ToHex(row->group_id)},
                                      {"source", row->source_domain},
                                      {"target", row->target_domain}};
               // Read only for a row that has one: rows come without their
               // messages, and the content is never needed here.
               if (store::HoldsConfirmation(row->role, row->state)) {
                 auto confirmation = ctx.store->GetMessage(
                     row->id, row->role, store::MessageKind::kConfirmation);
                 if (!confirmation.ok()) {
                   return ReplyError(res, confirmation.status());
                 }
                 body["confirmation"] = ToHex(*confirmation);
               }
               if (!row->last_error.empty()) body["last_error"] = row->last_error;
               ReplyJson(res, 200, body);
             });
}

}  // namespace mimi::daemon
