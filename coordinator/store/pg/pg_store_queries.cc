// PgStore's opening and its queries: rows, lists, counts, events, nonces,
// tombstones, each on a pooled connection.
#include <algorithm>
#include <string>
#include <utility>

#include "store/pg/pg_rows.h"
#include "store/pg/pg_schema_upgrade.h"
#include "store/pg/pg_store.h"
#include "store/schema_upgrade.h"

namespace mimi::store::pg {
namespace {

std::string Select(std::string_view rest) {
  return std::string("SELECT ") + kRecordColumns + " FROM migrations " +
         std::string(rest);
}

#define MIMI_PG_SELECT(rest)                                                 \
  "SELECT id, role, state, group_id, epoch, ciphersuite, source_domain, "    \
  "target_domain, content_hash, attempt_count, next_attempt_at, "            \
  "lease_owner, lease_expires_at, last_error, stalled_since, created_at, "   \
  "updated_at, lease_holder FROM migrations " rest

constexpr PgStatement kGetById = {
    "mimi_get_by_id", MIMI_PG_SELECT("WHERE id = $1 ORDER BY role")};
constexpr PgStatement kByGroup = {
    "mimi_by_group",
    MIMI_PG_SELECT("WHERE group_id = $1 ORDER BY created_at, id, role")};
constexpr PgStatement kByState = {
    "mimi_by_state",
    MIMI_PG_SELECT("WHERE role = $1 AND state = $2 "
                   "ORDER BY created_at, id LIMIT $3")};
constexpr PgStatement kDue = {
    "mimi_due",
    MIMI_PG_SELECT("WHERE next_attempt_at IS NOT NULL AND "
                   "next_attempt_at <= $1 AND (lease_owner IS NULL OR "
                   "lease_expires_at <= $1) ORDER BY next_attempt_at, id, "
                   "role LIMIT $2")};
constexpr PgStatement kDueKeys = {
    "mimi_due_keys",
    "SELECT next_attempt_at, id, role FROM migrations "
    "WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 "
    "AND (lease_owner IS NULL OR lease_expires_at <= $1) "
    "AND ($3::bigint IS NULL OR next_attempt_at > $3 OR "
    "(next_attempt_at = $3 AND (id > $4::text OR (id = $4::text AND "
    "role > $5::text)))) "
    "ORDER BY next_attempt_at, id, role LIMIT $2"};
constexpr PgStatement kStalled = {
    "mimi_stalled",
    MIMI_PG_SELECT("WHERE stalled_since IS NOT NULL "
                   "ORDER BY stalled_since, id, role LIMIT $1")};
constexpr PgStatement kCountStalled = {
    "mimi_count_stalled",
    "SELECT COUNT(*) FROM migrations WHERE stalled_since IS NOT NULL"};
constexpr PgStatement kCountByState = {
    "mimi_count_by_state",
    "SELECT role, state, COUNT(*) FROM migrations "
    "GROUP BY role, state ORDER BY role, state"};
constexpr PgStatement kGetMessage = {
    "mimi_get_message",
    "SELECT m.body FROM migrations r LEFT JOIN migration_messages m "
    "ON m.id = r.id AND m.role = r.role AND m.kind = $3 "
    "WHERE r.id = $1 AND r.role = $2"};
constexpr PgStatement kEvents = {
    "mimi_events",
    "SELECT seq, from_state, to_state, at, detail FROM migration_events "
    "WHERE migration_id = $1 AND role = $2 ORDER BY seq"};
constexpr PgStatement kNonce = {
    "mimi_nonce",
    "SELECT nonce, ciphersuite, issued_at, expires_at FROM issued_nonces "
    "WHERE nonce = $1"};
constexpr PgStatement kTombstone = {
    "mimi_tombstone",
    "SELECT group_id, target_domain, migration_id, moved_at, confirmation "
    "FROM tombstones WHERE group_id = $1"};

#undef MIMI_PG_SELECT

}  // namespace

Result<std::unique_ptr<PgStore>> PgStore::Open(const PgPoolOptions& options,
                                               const Clock& clock) {
  MIMI_ASSIGN_OR_RETURN(std::shared_ptr<PgPool> pool, PgPool::Open(options));
  {
    MIMI_ASSIGN_OR_RETURN(PgPool::Handle c, pool->Acquire());
    MIMI_RETURN_IF_ERROR(UpgradePgSchema(*c));
    MIMI_ASSIGN_OR_RETURN(int version, ReadPgSchemaVersion(*c));
    if (version != LatestSchemaVersion()) {
      return InternalError("schema version " + std::to_string(version) +
                           " after the upgrade, expected " +
                           std::to_string(LatestSchemaVersion()));
    }
  }
  return std::unique_ptr<PgStore>(new PgStore(std::move(pool), clock));
}

PgStore::~PgStore() = default;

Result<MigrationRecord> PgStore::Get(std::string_view id, Role role) {
  return Read([&](PgConnection& c) { return GetRow(c, id, role); });
}

Result<MigrationRecord> PgStore::GetWithMessages(std::string_view id,
                                                 Role role,
                                                 MessageSet messages) {
  // The row and its messages from one snapshot.
  return pool_->Transact(
      "reading " + Describe(id, role) + " with its messages",
      [&](PgConnection& c) -> Result<MigrationRecord> {
        MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(c, id, role));
        MIMI_RETURN_IF_ERROR(LoadMessages(c, messages, row));
        return row;
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

Result<Bytes> PgStore::GetMessage(std::string_view id, Role role,
                                  MessageKind kind) {
  return Read([&](PgConnection& c) -> Result<Bytes> {
    PgParams p;
    p.Text(id).Text(RoleName(role)).Text(MessageKindName(kind));
    MIMI_ASSIGN_OR_RETURN(
        PgResult q, c.Run("reading the " + std::string(MessageKindName(kind)) +
                              " of " + Describe(id, role),
                          kGetMessage, p));
    if (q.rows() == 0) return NotFoundError("no " + Describe(id, role));
    return q.Blob(0, 0);
  });
}

namespace {

class InMemoryMessageStream final : public MessageStream {
 public:
  InMemoryMessageStream(Bytes body, std::string what)
      : body_(std::move(body)), what_(std::move(what)) {}
  uint64_t size() const override { return body_.size(); }
  Status Read(uint64_t offset, std::span<uint8_t> out) override {
    if (offset > body_.size() || out.size() > body_.size() - offset) {
      return InvalidArgumentError(what_ + ": read past its " +
                                  std::to_string(body_.size()) + " bytes");
    }
    std::copy_n(body_.begin() + static_cast<std::ptrdiff_t>(offset),
                out.size(), out.begin());
    return Status::Ok();
  }

 private:
  const Bytes body_;
  const std::string what_;
};

}  // namespace

Result<std::unique_ptr<MessageStream>> PgStore::OpenMessage(std::string_view id,
                                                            Role role,
                                                            MessageKind kind) {
  MIMI_ASSIGN_OR_RETURN(Bytes body, GetMessage(id, role, kind));
  return std::unique_ptr<MessageStream>(new InMemoryMessageStream(
      std::move(body),
      "the " + std::string(MessageKindName(kind)) + " of " + Describe(id, role)));
}

Result<std::vector<MigrationRecord>> PgStore::GetById(std::string_view id) {
  return Read([&](PgConnection& c) -> Result<std::vector<MigrationRecord>> {
    PgParams p;
    p.Text(id);
    MIMI_ASSIGN_OR_RETURN(
        PgResult q, c.Run("reading migration " + std::string(id), kGetById, p));
    return AllRows(q);
  });
}

Result<std::vector<MigrationRecord>> PgStore::List(const ListFilter& filter) {
  if (filter.limit <= 0) {
    return InvalidArgumentError("list limit must be positive");
  }
  // Only the filters that are set, numbered in order.
  std::string where;
  PgParams p;
  int n = 0;
  auto add = [&](const char* column) {
    where += where.empty() ? "WHERE " : " AND ";
    where += std::string(column) + " = $" + std::to_string(++n);
  };
  if (filter.role) {
    add("role");
    p.Text(RoleName(*filter.role));
  }
  if (filter.state) {
    add("state");
    p.Text(StateName(*filter.state));
  }
  if (filter.group_id) {
    add("group_id");
    p.Blob(*filter.group_id);
  }
  p.Int(filter.limit);
  const std::string sql = Select(where +
                                 " ORDER BY created_at DESC, id, role LIMIT $" +
                                 std::to_string(++n));
  return Read([&](PgConnection& c) -> Result<std::vector<MigrationRecord>> {
    MIMI_ASSIGN_OR_RETURN(PgResult q,
                          c.RunOnce("listing migrations", sql, p));
    return AllRows(q);
  });
}

Result<std::vector<MigrationRecord>> PgStore::ListByGroup(ByteSpan group_id) {
  return Read([&](PgConnection& c) -> Result<std::vector<MigrationRecord>> {
    PgParams p;
    p.Blob(group_id);
    MIMI_ASSIGN_OR_RETURN(
        PgResult q, c.Run("listing a group's migrations", kByGroup, p));
    return AllRows(q);
  });
}

Result<std::vector<MigrationRecord>> PgStore::ListByState(Role role,
                                                          MigrationState state,
                                                          int limit) {
  return Read([&](PgConnection& c) -> Result<std::vector<MigrationRecord>> {
    PgParams p;
    p.Text(RoleName(role)).Text(StateName(state)).Int(limit);
    MIMI_ASSIGN_OR_RETURN(
        PgResult q, c.Run("listing migrations by state", kByState, p));
    return AllRows(q);
  });
}

Result<std::vector<StateCount>> PgStore::CountByState() {
  return Read([&](PgConnection& c) -> Result<std::vector<StateCount>> {
    MIMI_ASSIGN_OR_RETURN(PgResult q,
                          c.Run("counting migrations", kCountByState));
    std::vector<StateCount> out;
    for (int i = 0; i < q.rows(); ++i) {
      StateCount s;
      MIMI_ASSIGN_OR_RETURN(s.role, ParseRole(q.Text(i, 0)));
      MIMI_ASSIGN_OR_RETURN(s.state, ParseState(q.Text(i, 1)));
      s.count = q.Int(i, 2);
      out.push_back(s);
    }
    return out;
  });
}

Result<std::vector<MigrationRecord>> PgStore::ListDue(int limit) {
  return Read([&](PgConnection& c) -> Result<std::vector<MigrationRecord>> {
    PgParams p;
    p.Int(clock_.NowMillis()).Int(limit);
    MIMI_ASSIGN_OR_RETURN(PgResult q,
                          c.Run("listing due migrations", kDue, p));
    return AllRows(q);
  });
}

Result<std::vector<DueKey>> PgStore::ListDueKeys(const DueKey* after,
                                                 int limit) {
  return Read([&](PgConnection& c) -> Result<std::vector<DueKey>> {
    PgParams p;
    p.Int(clock_.NowMillis()).Int(limit);
    if (after != nullptr) {
      p.Int(after->next_attempt_at).Text(after->id).Text(RoleName(after->role));
    } else {
      p.Null().Null().Null();
    }
    MIMI_ASSIGN_OR_RETURN(PgResult q,
                          c.Run("listing due migrations", kDueKeys, p));
    std::vector<DueKey> out;
    for (int i = 0; i < q.rows(); ++i) {
      DueKey k;
      k.next_attempt_at = q.Int(i, 0);
      k.id = q.Text(i, 1);
      MIMI_ASSIGN_OR_RETURN(k.role, ParseRole(q.Text(i, 2)));
      out.push_back(std::move(k));
    }
    return out;
  });
}

Result<std::vector<MigrationRecord>> PgStore::ListStalled(int limit) {
  return Read([&](PgConnection& c) -> Result<std::vector<MigrationRecord>> {
    PgParams p;
    p.Int(limit);
    MIMI_ASSIGN_OR_RETURN(PgResult q,
                          c.Run("listing stalled migrations", kStalled, p));
    return AllRows(q);
  });
}

Result<int64_t> PgStore::CountStalled() {
  return Read([&](PgConnection& c) -> Result<int64_t> {
    MIMI_ASSIGN_OR_RETURN(
        PgResult q, c.Run("counting stalled migrations", kCountStalled));
    return q.Int(0, 0);
  });
}

Result<std::optional<int64_t>> PgStore::OldestUnfinishedAgeMillis() {
  // Unfinished = not terminal for its role, from the transition table, as
  // SqliteStore does.
  static const std::string kSql = [] {
    std::string cond;
    for (Role role : {Role::kSource, Role::kTarget}) {
      std::string states;
      for (const TransitionRule& r : TransitionRules()) {
        if (r.role != role) continue;
        std::string quoted = "'" + std::string(StateName(r.from)) + "'";
        if (states.find(quoted) == std::string::npos) {
          states += (states.empty() ? "" : ", ") + quoted;
        }
      }
      cond += std::string(cond.empty() ? "" : " OR ") + "(role = '" +
              std::string(RoleName(role)) + "' AND state IN (" + states + "))";
    }
    return "SELECT MIN(created_at) FROM migrations WHERE " + cond;
  }();
  static const PgStatement kOldest = {"mimi_oldest_unfinished", kSql.c_str()};
  return Read([&](PgConnection& c) -> Result<std::optional<int64_t>> {
    MIMI_ASSIGN_OR_RETURN(
        PgResult q, c.Run("finding the oldest open migration", kOldest));
    if (q.IsNull(0, 0)) return std::optional<int64_t>();
    return std::optional<int64_t>(clock_.NowMillis() - q.Int(0, 0));
  });
}

Result<std::vector<MigrationEvent>> PgStore::Events(std::string_view id,
                                                    Role role) {
  return Read([&](PgConnection& c) -> Result<std::vector<MigrationEvent>> {
    PgParams p;
    p.Text(id).Text(RoleName(role));
    MIMI_ASSIGN_OR_RETURN(
        PgResult q,
        c.Run("reading the events of " + Describe(id, role), kEvents, p));
    std::vector<MigrationEvent> out;
    for (int i = 0; i < q.rows(); ++i) {
      MigrationEvent e;
      e.seq = q.Int(i, 0);
      e.migration_id = std::string(id);
      e.role = role;
      if (!q.IsNull(i, 1)) {
        MIMI_ASSIGN_OR_RETURN(e.from_state, ParseState(q.Text(i, 1)));
      }
      MIMI_ASSIGN_OR_RETURN(e.to_state, ParseState(q.Text(i, 2)));
      e.at = q.Int(i, 3);
      e.detail = q.Text(i, 4);
      out.push_back(std::move(e));
    }
    return out;
  });
}

Result<IssuedNonce> PgStore::GetNonce(std::string_view nonce) {
  return Read([&](PgConnection& c) -> Result<IssuedNonce> {
    PgParams p;
    p.Text(nonce);
    MIMI_ASSIGN_OR_RETURN(PgResult q, c.Run("reading a nonce", kNonce, p));
    if (q.rows() == 0) {
      return NotFoundError("nonce " + std::string(nonce) + " was not issued");
    }
    IssuedNonce n;
    n.nonce = q.Text(0, 0);
    n.ciphersuite = static_cast<uint16_t>(q.Int(0, 1));
    n.issued_at = q.Int(0, 2);
    n.expires_at = q.Int(0, 3);
    return n;
  });
}

Result<Tombstone> PgStore::GetTombstone(ByteSpan group_id) {
  return Read([&](PgConnection& c) -> Result<Tombstone> {
    PgParams p;
    p.Blob(group_id);
    MIMI_ASSIGN_OR_RETURN(PgResult q,
                          c.Run("reading a tombstone", kTombstone, p));
    if (q.rows() == 0) return NotFoundError("no tombstone for the group");
    Tombstone t;
    t.group_id = q.Blob(0, 0);
    t.target_domain = q.Text(0, 1);
    t.migration_id = q.Text(0, 2);
    t.moved_at = q.Int(0, 3);
    t.confirmation = q.Blob(0, 4);
    return t;
  });
}

}  // namespace mimi::store::pg
