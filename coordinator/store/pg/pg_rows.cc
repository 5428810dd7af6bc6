#include "store/pg/pg_rows.h"

#include <array>
#include <utility>

namespace mimi::store::pg {

const char* const kRecordColumns =
    "id, role, state, group_id, epoch, ciphersuite, source_domain, "
    "target_domain, content_hash, attempt_count, next_attempt_at, "
    "lease_owner, lease_expires_at, last_error, stalled_since, created_at, "
    "updated_at, lease_holder";

namespace {

constexpr PgStatement kGetRow = {
    "mimi_get_row",
    "SELECT id, role, state, group_id, epoch, ciphersuite, source_domain, "
    "target_domain, content_hash, attempt_count, next_attempt_at, "
    "lease_owner, lease_expires_at, last_error, stalled_since, created_at, "
    "updated_at, lease_holder FROM migrations WHERE id = $1 AND role = $2"};
constexpr PgStatement kGetRowForUpdate = {
    "mimi_get_row_for_update",
    "SELECT id, role, state, group_id, epoch, ciphersuite, source_domain, "
    "target_domain, content_hash, attempt_count, next_attempt_at, "
    "lease_owner, lease_expires_at, last_error, stalled_since, created_at, "
    "updated_at, lease_holder FROM migrations WHERE id = $1 AND role = $2 "
    "FOR UPDATE"};
constexpr PgStatement kReadMessage = {
    "mimi_read_message",
    "SELECT body FROM migration_messages "
    "WHERE id = $1 AND role = $2 AND kind = $3"};
// The kinds asked for as one text[] parameter: one prepared statement for
// every set of kinds, and the others (the content above all) never read.
constexpr PgStatement kLoadMessages = {
    "mimi_load_messages",
    "SELECT kind, body FROM migration_messages "
    "WHERE id = $1 AND role = $2 AND kind = ANY ($3::text[])"};
constexpr PgStatement kInsertEvent = {
    "mimi_insert_event",
    "INSERT INTO migration_events (migration_id, role, from_state, to_state, "
    "at, detail) VALUES ($1, $2, $3, $4, $5, $6)"};
constexpr PgStatement kHolderEnded = {
    "mimi_holder_ended",
    "SELECT 1 FROM lease_holders WHERE (instance_id = $1 AND incarnation > "
    "$2) OR (holder_id = $3 AND ended_at IS NOT NULL) LIMIT 1"};

constexpr int kMaxMessages = std::size(kAllMessageKinds);

// "INSERT ... VALUES ($1, $2, $3, $4), ($1, $2, $5, $6), ..." for n rows,
// each prepared under its own name.
const PgStatement& InsertMessagesStatement(int n) {
  static const auto kStatements = [] {
    std::array<std::pair<std::string, std::string>, kMaxMessages + 1> s;
    for (int rows = 1; rows <= kMaxMessages; ++rows) {
      std::string sql =
          "INSERT INTO migration_messages (id, role, kind, body) VALUES ";
      for (int i = 0; i < rows; ++i) {
        sql += std::string(i == 0 ? "" : ", ") + "($1, $2, $" +
               std::to_string(3 + 2 * i) + ", $" + std::to_string(4 + 2 * i) +
               ")";
      }
      s[rows] = {"mimi_insert_messages_" + std::to_string(rows), sql};
    }
    return s;
  }();
  static const auto kViews = [] {
    std::array<PgStatement, kMaxMessages + 1> v{};
    for (int rows = 1; rows <= kMaxMessages; ++rows) {
      v[rows] = {kStatements[rows].first.c_str(),
                 kStatements[rows].second.c_str()};
    }
    return v;
  }();
  return kViews[n];
}

}  // namespace

Result<MigrationRecord> RowToRecord(const PgResult& q, int row) {
  MigrationRecord r;
  r.id = q.Text(row, 0);
  MIMI_ASSIGN_OR_RETURN(r.role, ParseRole(q.Text(row, 1)));
  MIMI_ASSIGN_OR_RETURN(r.state, ParseState(q.Text(row, 2)));
  r.group_id = q.Blob(row, 3);
  r.epoch = static_cast<uint64_t>(q.Int(row, 4));
  r.ciphersuite = static_cast<uint16_t>(q.Int(row, 5));
  r.source_domain = q.Text(row, 6);
  r.target_domain = q.Text(row, 7);
  r.content_hash = q.Blob(row, 8);
  r.attempt_count = q.Int(row, 9);
  r.next_attempt_at = q.OptionalInt(row, 10);
  r.lease_owner = q.OptionalText(row, 11);
  r.lease_expires_at = q.OptionalInt(row, 12);
  r.last_error = q.Text(row, 13);  // NULL reads as ""
  r.stalled_since = q.OptionalInt(row, 14);
  r.created_at = q.Int(row, 15);
  r.updated_at = q.Int(row, 16);
  r.lease_holder = q.OptionalText(row, 17);
  return r;
}

Result<std::vector<MigrationRecord>> AllRows(const PgResult& q) {
  std::vector<MigrationRecord> out;
  out.reserve(static_cast<size_t>(q.rows()));
  for (int i = 0; i < q.rows(); ++i) {
    MIMI_ASSIGN_OR_RETURN(MigrationRecord r, RowToRecord(q, i));
    out.push_back(std::move(r));
  }
  return out;
}

Result<MigrationRecord> GetRow(PgConnection& c, std::string_view id, Role role,
                               bool for_update) {
  PgParams p;
  p.Text(id).Text(RoleName(role));
  MIMI_ASSIGN_OR_RETURN(
      PgResult q, c.Run("reading " + Describe(id, role),
                        for_update ? kGetRowForUpdate : kGetRow, p));
  if (q.rows() == 0) {
    return NotFoundError("no " + std::string(RoleName(role)) + " migration " +
                         std::string(id));
  }
  return RowToRecord(q, 0);
}

Status InsertMessages(PgConnection& c, std::string_view id, Role role,
                      std::span<const StoredMessage> messages) {
  PgParams p;
  p.Text(id).Text(RoleName(role));
  int rows = 0;
  for (const StoredMessage& m : messages) {
    if (m.body.empty()) continue;
    p.Text(MessageKindName(m.kind)).Blob(m.body);
    ++rows;
  }
  if (rows == 0) return Status::Ok();
  if (rows > kMaxMessages) return InternalError("too many messages at once");
  MIMI_ASSIGN_OR_RETURN(PgResult r,
                        c.Run("storing the messages of " + Describe(id, role),
                              InsertMessagesStatement(rows), p));
  (void)r;
  return Status::Ok();
}

Result<Bytes> ReadMessage(PgConnection& c, std::string_view id, Role role,
                          MessageKind kind) {
  PgParams p;
  p.Text(id).Text(RoleName(role)).Text(MessageKindName(kind));
  MIMI_ASSIGN_OR_RETURN(
      PgResult q, c.Run("reading a message of " + Describe(id, role),
                        kReadMessage, p));
  if (q.rows() == 0) return Bytes{};
  return q.Blob(0, 0);
}

Status LoadMessages(PgConnection& c, MessageSet messages,
                    MigrationRecord& record) {
  if (messages == kNoMessages) return Status::Ok();
  std::string kinds = "{";
  for (MessageKind kind : kAllMessageKinds) {
    if ((messages & MessageBit(kind)) == 0) continue;
    kinds += std::string(kinds.size() == 1 ? "" : ",") +
             std::string(MessageKindName(kind));
  }
  kinds += "}";
  PgParams p;
  p.Text(record.id).Text(RoleName(record.role)).Text(kinds);
  MIMI_ASSIGN_OR_RETURN(
      PgResult q,
      c.Run("reading the messages of " + Describe(record.id, record.role),
            kLoadMessages, p));
  for (int i = 0; i < q.rows(); ++i) {
    const std::string kind = q.Text(i, 0);
    for (MessageKind k : kAllMessageKinds) {
      if (MessageKindName(k) == kind) MessageOf(record, k) = q.Blob(i, 1);
    }
  }
  return Status::Ok();
}

Status InsertEvent(PgConnection& c, std::string_view id, Role role,
                   std::optional<MigrationState> from, MigrationState to,
                   UnixMillis at, std::string_view detail) {
  PgParams p;
  p.Text(id).Text(RoleName(role));
  if (from) {
    p.Text(StateName(*from));
  } else {
    p.Null();
  }
  p.Text(StateName(to)).Int(at).Text(detail);
  MIMI_ASSIGN_OR_RETURN(
      PgResult r, c.Run("logging an event of " + Describe(id, role),
                        kInsertEvent, p));
  (void)r;
  return Status::Ok();
}

Result<bool> PgHolderHasEnded(PgConnection& c, std::string_view holder) {
  const size_t slash = holder.rfind('/');
  const std::string_view n =
      slash == std::string_view::npos ? "" : holder.substr(slash + 1);
  if (n.empty() || n.size() > 18 ||  // 18 digits fit an int64
      n.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  PgParams p;
  p.Text(holder.substr(0, slash))
      .Int(std::stoll(std::string(n)))
      .Text(holder);
  MIMI_ASSIGN_OR_RETURN(
      PgResult q, c.Run("looking up lease holder " + std::string(holder),
                        kHolderEnded, p));
  return q.rows() > 0;
}

}  // namespace mimi::store::pg
