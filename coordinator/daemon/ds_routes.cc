#include "daemon/ds_routes.h"

#include <charconv>
#include <string>
#include <utility>

#include "daemon/ds_request_bodies.h"
#include "embedded_ds/member_request.h"
#include "mimi_portability/ds_reason.h"

namespace mimi::daemon {
namespace {

using nlohmann::json;

constexpr int kMaxFetch = 1000;
// Any length: ids over ds.max_group_id_bytes cannot exist here, so they end
// as unknown-group like any other.
constexpr char kGroupPattern[] = "([0-9a-f]+)";

using embedded_ds::MemberRequest;

Status Unauthenticated(const std::string& detail) {
  return Status(StatusCode::kPermissionDenied, "unauthenticated", detail);
}

bool HasMemberHeaders(const httplib::Request& req) {
  return req.has_header(embedded_ds::kSenderHeader) ||
         req.has_header(embedded_ds::kEpochHeader) ||
         req.has_header(embedded_ds::kSignatureHeader);
}

template <typename T>
bool ParseDecimal(const std::string& v, T* out) {
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return !v.empty() && ec == std::errc() && ptr == v.data() + v.size();
}

// The member request the three headers claim; 401 unauthenticated when one
// is missing or does not parse.
Result<MemberRequest> MemberHeaders(const httplib::Request& req, ByteSpan group_id) {
  MemberRequest m;
  for (const char* h : {embedded_ds::kSenderHeader, embedded_ds::kEpochHeader,
                        embedded_ds::kSignatureHeader}) {
    if (!req.has_header(h)) {
      return Unauthenticated(std::string("member requests need the headers ") +
                             embedded_ds::kSenderHeader + ", " + embedded_ds::kEpochHeader +
                             " and " + embedded_ds::kSignatureHeader + " (" + h +
                             " is missing)");
    }
  }
  if (!ParseDecimal(req.get_header_value(embedded_ds::kSenderHeader), &m.sender)) {
    return Unauthenticated(std::string(embedded_ds::kSenderHeader) + ": not a leaf index");
  }
  if (!ParseDecimal(req.get_header_value(embedded_ds::kEpochHeader), &m.epoch)) {
    return Unauthenticated(std::string(embedded_ds::kEpochHeader) + ": not an epoch");
  }
  auto sig = FromHex(req.get_header_value(embedded_ds::kSignatureHeader));
  if (!sig.ok() || sig->empty()) {
    return Unauthenticated(std::string(embedded_ds::kSignatureHeader) + ": not hex");
  }
  m.signature = std::move(sig).value();
  m.method = req.method;
  m.path = req.path;
  m.group_id.assign(group_id.begin(), group_id.end());
  m.body = req.body;
  return m;
}

Result<uint64_t> QueryNumber(const httplib::Request& req, const char* name,
                             uint64_t fallback) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  uint64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) {
    return MalformedError(std::string("query ") + name + ": not a number");
  }
  return out;
}

// Errors from the DS, with the tombstone's domain when the group moved.
void ReplyDsError(httplib::Response& res, embedded_ds::EmbeddedDs& ds,
                  ByteSpan group_id, const Status& status) {
  if (status.reason() == ds_reason::kMoved) {
    auto tomb = ds.LookupTombstone(group_id);
    if (tomb.ok()) {
      ReplyError(res, status, {{"moved_to", tomb->moved_to}});
      return;
    }
  }
  ReplyError(res, status);
}

Bytes GroupIdFrom(const httplib::Request& req) {
  // The route's pattern admits only an even number of hex digits... or an
  // odd one, which FromHex refuses; both end as an empty id that matches
  // no group.
  auto id = FromHex(req.matches[1].str());
  return id.ok() ? std::move(id).value() : Bytes{};
}

// Registers kDsRoutes[index] (so that the table, which the OpenAPI test
// reads, is what is served).
void Route(HttpServer& server, DsRouteIndex index, HttpServer::Handler handler) {
  const DsRoute& route = kDsRoutes[index];
  std::string pattern(route.path);
  constexpr std::string_view kParam = "{group_id}";
  if (size_t at = pattern.find(kParam); at != std::string::npos) {
    pattern.replace(at, kParam.size(), kGroupPattern);
  }
  if (route.method == "POST") {
    server.Post(pattern, std::move(handler));
  } else {
    server.Get(pattern, std::move(handler));
  }
}

}  // namespace

void RegisterDsRoutes(HttpServer& server, embedded_ds::EmbeddedDs& ds,
                      protocol::ClientTokens* client_tokens) {
  Route(server, kDsCreateGroup, [&ds, client_tokens](const httplib::Request& req,
                                                     httplib::Response& res) {
    // Creating groups is for this DS's own clients: anyone else could squat
    // the id of a group on its way here.
    if (!req.has_header("Authorization")) {
      res.set_header("WWW-Authenticate", "Bearer");
      return ReplyError(res, Unauthenticated(
                                 "creating a group needs Authorization: Bearer "
                                 "<client token> (mimi-portctl tokens issue NAME)"));
    }
    if (client_tokens == nullptr ||
        !client_tokens->Check(req.get_header_value("Authorization")).ok()) {
      return ReplyError(res, Status(StatusCode::kPermissionDenied, "bad-token",
                                    "the bearer token is not a client token of this DS"));
    }
    auto body = ParseCreateGroupBody(req.body);
    if (!body.ok()) return ReplyError(res, body.status());
    auto created = ds.CreateGroup(body->group_info, body->ratchet_tree);
    if (!created.ok()) {
      return ReplyDsError(res, ds, body->group_id, created.status());
    }
    ReplyJson(res, 201, {{"group_id", ToHex(created->group_id)},
                         {"epoch", created->epoch},
                         {"cipher_suite", created->ciphersuite}});
  });

  Route(server, kDsGetGroup, [&ds](const httplib::Request& req,
                                   httplib::Response& res) {
    const Bytes gid = GroupIdFrom(req);
    // The migration id is the nonce that opens the migration's status
    // endpoint: members only.
    bool member = false;
    if (HasMemberHeaders(req)) {
      auto m = MemberHeaders(req, gid);
      if (!m.ok()) return ReplyError(res, m.status());
      if (Status s = ds.AuthenticateMember(*m); !s.ok()) {
        return ReplyDsError(res, ds, gid, s);
      }
      member = true;
    }
    auto d = ds.Details(gid);
    if (!d.ok()) return ReplyDsError(res, ds, gid, d.status());
    json out = {{"group_id", ToHex(gid)},
                {"epoch", d->summary.epoch},
                {"cipher_suite", d->summary.ciphersuite},
                {"frozen", d->summary.frozen},
                {"tree_epoch", d->tree_epoch},
                {"members", d->member_count},
                {"last_seq", d->last_seq}};
    if (member) out["migration_id"] = d->summary.migration_id;
    ReplyJson(res, 200, out);
  });

  Route(server, kDsPostCommit, [&ds](const httplib::Request& req,
                                     httplib::Response& res) {
    const Bytes gid = GroupIdFrom(req);
    auto m = MemberHeaders(req, gid);
    if (!m.ok()) return ReplyError(res, m.status());
    if (Status s = ds.AuthenticateMember(*m); !s.ok()) return ReplyDsError(res, ds, gid, s);
    auto body = ParseCommitBody(req.body);
    if (!body.ok()) return ReplyError(res, body.status());
    auto seq = ds.SubmitCommit(gid, m->sender, m->epoch, body->commit,
                               body->ratchet_tree, body->group_info);
    if (!seq.ok()) return ReplyDsError(res, ds, gid, seq.status());
    auto summary = ds.LookupGroup(gid);
    ReplyJson(res, 200, {{"seq", *seq}, {"epoch", summary.ok() ? summary->epoch : 0}});
  });

  Route(server, kDsPostMessage, [&ds](const httplib::Request& req,
                                      httplib::Response& res) {
    const Bytes gid = GroupIdFrom(req);
    auto m = MemberHeaders(req, gid);
    if (!m.ok()) return ReplyError(res, m.status());
    if (Status s = ds.AuthenticateMember(*m); !s.ok()) return ReplyDsError(res, ds, gid, s);
    auto body = ParseMessageBody(req.body);
    if (!body.ok()) return ReplyError(res, body.status());
    auto seq = ds.SubmitMessage(gid, m->sender, m->epoch, body->message);
    if (!seq.ok()) return ReplyDsError(res, ds, gid, seq.status());
    ReplyJson(res, 200, {{"seq", *seq}});
  });

  Route(server, kDsFetchMessages, [&ds](const httplib::Request& req,
                                        httplib::Response& res) {
    const Bytes gid = GroupIdFrom(req);
    auto after = QueryNumber(req, "after", 0);
    auto limit = QueryNumber(req, "limit", kMaxFetch);
    if (!after.ok()) return ReplyError(res, after.status());
    if (!limit.ok()) return ReplyError(res, limit.status());
    const int n = static_cast<int>(std::min<uint64_t>(*limit, kMaxFetch));
    auto messages = ds.FetchMessages(gid, *after, n);
    if (!messages.ok()) return ReplyDsError(res, ds, gid, messages.status());
    json list = json::array();
    for (const StoredMessage& m : *messages) {
      list.push_back({{"seq", m.seq}, {"message", ToHex(m.message)}});
    }
    ReplyJson(res, 200, {{"messages", list}});
  });
}

}  // namespace mimi::daemon
