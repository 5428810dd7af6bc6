#include "admin_api/admin_views.h"

#include <charconv>

#include "mimi_portability/bytes.h"

namespace mimi::admin_api {
namespace {

using nlohmann::json;
using store::MigrationEvent;
using store::MigrationRecord;

json HexOrNull(const Bytes& bytes) {
  return bytes.empty() ? json(nullptr) : json(ToHex(bytes));
}

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// The lease fields of a row, with its holder's liveness (docs/operations.md
// "Lease holders"): lease_state is null (free), "held", "expired" (free to
// take) or "dead-holder" (its holder is dead; recovery takes it over at
// its next scan).
void AddLease(const MigrationRecord& r,
              const std::vector<store::LeaseHolder>& holders, UnixMillis now,
              json& j) {
  j["lease_owner"] = OrNull(r.lease_owner);
  j["lease_expires_at"] = OrNull(r.lease_expires_at);
  j["lease_holder"] = OrNull(r.lease_holder);
  json alive = nullptr;
  json state = nullptr;
  if (r.lease_owner) {
    const store::LeaseHolder* holder = nullptr;
    if (r.lease_holder) {
      for (const auto& h : holders) {
        if (h.holder_id == *r.lease_holder) holder = &h;
      }
      // The store forgets a dead holder only once nothing names it, so an
      // unknown one was never registered (a tool's owner): nobody takes its
      // lease over before it expires, and nothing is known of its life.
      if (holder != nullptr) alive = holder->AliveAt(now);
    }
    if (r.lease_expires_at.value_or(0) <= now) {
      state = "expired";
    } else if (alive.is_boolean() && !alive.get<bool>()) {
      state = "dead-holder";
    } else {
      state = "held";  // a live holder, or an unknown one
    }
  }
  j["lease_holder_alive"] = std::move(alive);
  j["lease_state"] = std::move(state);
}

}  // namespace

nlohmann::json LeaseHolderJson(const store::LeaseHolder& h, UnixMillis now) {
  return {{"holder_id", h.holder_id},
          {"instance_id", h.instance_id},
          {"incarnation", h.incarnation},
          {"host", h.host},
          {"pid", h.pid},
          {"started_at", h.started_at},
          {"heartbeat_at", h.heartbeat_at},
          {"alive_until", h.alive_until},
          {"ended_at", OrNull(h.ended_at)},
          {"alive", h.AliveAt(now)}};
}

Result<store::ListFilter> ParseListFilter(
    const std::optional<std::string>& state,
    const std::optional<std::string>& role,
    const std::optional<std::string>& group,
    const std::optional<std::string>& limit) {
  store::ListFilter f;
  f.limit = kDefaultListLimit;
  if (state && !state->empty()) {
    Result<store::MigrationState> s = store::ParseState(*state);
    if (!s.ok()) return MalformedError("state: unknown state \"" + *state + "\"");
    f.state = *s;
  }
  if (role && !role->empty()) {
    Result<store::Role> r = store::ParseRole(*role);
    if (!r.ok()) {
      return MalformedError("role: \"" + *role +
                            "\" is neither source nor target");
    }
    f.role = *r;
  }
  if (group && !group->empty()) {
    Result<Bytes> g = FromHex(*group);
    if (!g.ok()) return MalformedError("group: " + g.status().detail());
    // FromHex skips white space: a group of only that is as empty, no
    // filter, not a filter on the empty group id that matches nothing.
    if (!g->empty()) f.group_id = std::move(g).value();
  }
  if (limit && !limit->empty()) {
    int n = 0;
    const char* end = limit->data() + limit->size();
    auto [p, ec] = std::from_chars(limit->data(), end, n);
    if (ec != std::errc() || p != end || n < 1 || n > kMaxListLimit) {
      return MalformedError("limit: must be a number from 1 to " +
                            std::to_string(kMaxListLimit));
    }
    f.limit = n;
  }
  return f;
}

json MigrationSummaryJson(const MigrationRecord& r) {
  return {{"id", r.id},
          {"role", store::RoleName(r.role)},
          {"state", store::StateName(r.state)},
          {"group_id", ToHex(r.group_id)},
          {"epoch", r.epoch},
          {"ciphersuite", r.ciphersuite},
          {"source_domain", r.source_domain},
          {"target_domain", r.target_domain},
          {"attempt_count", r.attempt_count},
          {"next_attempt_at", OrNull(r.next_attempt_at)},
          {"last_error", r.last_error.empty() ? json(nullptr) : json(r.last_error)},
          {"stalled_since", OrNull(r.stalled_since)},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at}};
}

json MigrationDetailJson(const MigrationRecord& r,
                         const std::vector<MigrationEvent>& events) {
  json j = MigrationSummaryJson(r);
  json messages = json::object();
  for (store::MessageKind kind : store::kAllMessageKinds) {
    messages[std::string(store::MessageKindName(kind))] =
        HexOrNull(store::MessageOf(r, kind));
  }
  messages["content_hash"] = HexOrNull(r.content_hash);
  j["messages"] = std::move(messages);
  json ev = json::array();
  for (const MigrationEvent& e : events) {
    ev.push_back({{"seq", e.seq},
                  {"from", e.from_state ? json(store::StateName(*e.from_state))
                                        : json(nullptr)},
                  {"to", store::StateName(e.to_state)},
                  {"at", e.at},
                  {"detail", e.detail}});
  }
  j["events"] = std::move(ev);
  return j;
}

Result<json> ListView(store::Store& store, const store::ListFilter& filter,
                      UnixMillis now) {
  MIMI_ASSIGN_OR_RETURN(std::vector<MigrationRecord> rows, store.List(filter));
  MIMI_ASSIGN_OR_RETURN(auto holders, store.ListLeaseHolders());
  json list = json::array();
  for (const MigrationRecord& r : rows) {
    json j = MigrationSummaryJson(r);
    AddLease(r, holders, now, j);
    list.push_back(std::move(j));
  }
  return json{{"now", now}, {"migrations", std::move(list)}};
}

Result<json> ShowView(store::Store& store, std::string_view id,
                      UnixMillis now,
                      const TransferLookup& transfers) {
  MIMI_ASSIGN_OR_RETURN(std::vector<MigrationRecord> keys, store.GetById(id));
  if (keys.empty()) return NotFoundError("no migration " + std::string(id));
  MIMI_ASSIGN_OR_RETURN(auto holders, store.ListLeaseHolders());
  json list = json::array();
  for (const MigrationRecord& key : keys) {
    // The one view that shows the messages, so the one read that asks for
    // them (rows come without).
    MIMI_ASSIGN_OR_RETURN(
        MigrationRecord r,
        store.GetWithMessages(key.id, key.role, store::kAllMessages));
    MIMI_ASSIGN_OR_RETURN(std::vector<MigrationEvent> events,
                          store.Events(r.id, r.role));
    json detail = MigrationDetailJson(r, events);
    AddLease(r, holders, now, detail);
    std::optional<TransferView> t;
    // Only the source uploads; the target's side of it is the same bytes.
    if (transfers && r.role == store::Role::kSource) t = transfers(r.id);
    detail["transfer"] = t ? json{{"sent_bytes", t->sent_bytes},
                                  {"total_bytes", t->total_bytes},
                                  {"started_at", t->started_at},
                                  {"updated_at", t->updated_at}}
                           : json(nullptr);
    list.push_back(std::move(detail));
  }
  return json{{"id", std::string(id)}, {"now", now}, {"migrations", std::move(list)}};
}

Result<json> StatsView(store::Store& store, UnixMillis now) {
  MIMI_ASSIGN_OR_RETURN(std::vector<store::StateCount> counts,
                        store.CountByState());
  MIMI_ASSIGN_OR_RETURN(int64_t stalled, store.CountStalled());
  MIMI_ASSIGN_OR_RETURN(std::optional<int64_t> oldest,
                        store.OldestUnfinishedAgeMillis());
  json list = json::array();
  int64_t total = 0;
  for (const store::StateCount& c : counts) {
    list.push_back({{"role", store::RoleName(c.role)},
                    {"state", store::StateName(c.state)},
                    {"count", c.count}});
    total += c.count;
  }
  MIMI_ASSIGN_OR_RETURN(auto holders, store.ListLeaseHolders());
  json holder_list = json::array();
  for (const store::LeaseHolder& h : holders) {
    holder_list.push_back(LeaseHolderJson(h, now));
  }
  return json{{"now", now},
              {"counts", std::move(list)},
              {"total", total},
              {"stalled", stalled},
              {"oldest_unfinished_age_ms", OrNull(oldest)},
              {"lease_holders", std::move(holder_list)}};
}

}  // namespace mimi::admin_api
