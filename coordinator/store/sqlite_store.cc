#include "store/sqlite_store.h"

#include <SQLiteCpp/Statement.h>

#include <cstring>
#include <filesystem>
#include <utility>

#include "store/open_lock.h"
#include "store/schema_upgrade.h"
#include "store/sqlite_status.h"

namespace mimi::store {
namespace {

constexpr const char* kColumns =
    "id, role, state, group_id, epoch, ciphersuite, source_domain, "
    "target_domain, request, response, init_request, commit_message, content, "
    "content_hash, target_complete, confirmation, abort_message, abort_ack, "
    "attempt_count, next_attempt_at, lease_owner, lease_expires_at, "
    "last_error, stalled_since, created_at, updated_at";

std::string SelectFrom(std::string_view where) {
  return std::string("SELECT ") + kColumns + " FROM migrations " +
         std::string(where);
}

// Empty bytes are stored as NULL: "this message is not there yet". Bound
// without a copy: each statement runs and ends while the record or the
// transition data it binds is alive, and a content is as large as the group
// (a copy of a 64 MiB content would add to the source's peak memory).
void BindBytes(SQLite::Statement& stmt, int index, ByteSpan bytes) {
  if (bytes.empty()) {
    stmt.bind(index);
  } else {
    stmt.bindNoCopy(index, bytes.data(), static_cast<int>(bytes.size()));
  }
}

// For NOT NULL blobs: a null data pointer would bind SQL NULL, and an empty
// MLS group id is legal on the wire.
void BindBlob(SQLite::Statement& stmt, int index, ByteSpan bytes) {
  static const uint8_t kEmpty = 0;
  stmt.bind(index, bytes.empty() ? &kEmpty : bytes.data(),
            static_cast<int>(bytes.size()));
}

void BindOptional(SQLite::Statement& stmt, int index,
                  const std::optional<int64_t>& v) {
  if (v) {
    stmt.bind(index, static_cast<int64_t>(*v));
  } else {
    stmt.bind(index);
  }
}

Bytes ColumnBytes(const SQLite::Column& c) {
  if (c.isNull()) return {};
  const auto* p = static_cast<const uint8_t*>(c.getBlob());
  return Bytes(p, p + c.getBytes());
}

std::optional<int64_t> ColumnOptional(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

// Reads the current row of a SELECT of kColumns. Unknown role or state names
// mean the file was written by something else; they are errors, not guesses.
Result<MigrationRecord> RowToRecord(SQLite::Statement& q) {
  MigrationRecord r;
  r.id = q.getColumn(0).getString();
  MIMI_ASSIGN_OR_RETURN(r.role, ParseRole(q.getColumn(1).getString()));
  MIMI_ASSIGN_OR_RETURN(r.state, ParseState(q.getColumn(2).getString()));
  r.group_id = ColumnBytes(q.getColumn(3));
  r.epoch = static_cast<uint64_t>(q.getColumn(4).getInt64());
  r.ciphersuite = static_cast<uint16_t>(q.getColumn(5).getInt());
  r.source_domain = q.getColumn(6).getString();
  r.target_domain = q.getColumn(7).getString();
  r.request = ColumnBytes(q.getColumn(8));
  r.response = ColumnBytes(q.getColumn(9));
  r.init_request = ColumnBytes(q.getColumn(10));
  r.commit = ColumnBytes(q.getColumn(11));
  r.content = ColumnBytes(q.getColumn(12));
  r.content_hash = ColumnBytes(q.getColumn(13));
  r.target_complete = ColumnBytes(q.getColumn(14));
  r.confirmation = ColumnBytes(q.getColumn(15));
  r.abort_message = ColumnBytes(q.getColumn(16));
  r.abort_ack = ColumnBytes(q.getColumn(17));
  r.attempt_count = q.getColumn(18).getInt64();
  r.next_attempt_at = ColumnOptional(q.getColumn(19));
  if (!q.getColumn(20).isNull()) r.lease_owner = q.getColumn(20).getString();
  r.lease_expires_at = ColumnOptional(q.getColumn(21));
  r.last_error = q.getColumn(22).getString();  // NULL reads as ""
  r.stalled_since = ColumnOptional(q.getColumn(23));
  r.created_at = q.getColumn(24).getInt64();
  r.updated_at = q.getColumn(25).getInt64();
  return r;
}

Result<std::vector<MigrationRecord>> AllRows(SQLite::Statement& q) {
  std::vector<MigrationRecord> out;
  while (q.executeStep()) {
    MIMI_ASSIGN_OR_RETURN(MigrationRecord r, RowToRecord(q));
    out.push_back(std::move(r));
  }
  return out;
}

Result<MigrationRecord> GetRow(SQLite::Database& db, std::string_view id,
                               Role role) {
  SQLite::Statement q(db, SelectFrom("WHERE id = ?1 AND role = ?2"));
  q.bind(1, std::string(id));
  q.bind(2, std::string(RoleName(role)));
  if (!q.executeStep()) {
    return NotFoundError("no " + std::string(RoleName(role)) + " migration " +
                         std::string(id));
  }
  return RowToRecord(q);
}

void InsertEvent(SQLite::Database& db, std::string_view id, Role role,
                 std::optional<MigrationState> from, MigrationState to,
                 UnixMillis at, std::string_view detail) {
  SQLite::Statement ins(db,
                        "INSERT INTO migration_events (migration_id, role, "
                        "from_state, to_state, at, detail) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  ins.bind(1, std::string(id));
  ins.bind(2, std::string(RoleName(role)));
  if (from) {
    ins.bind(3, std::string(StateName(*from)));
  } else {
    ins.bind(3);
  }
  ins.bind(4, std::string(StateName(to)));
  ins.bind(5, static_cast<int64_t>(at));
  ins.bind(6, std::string(detail));
  ins.exec();
}

// The data columns a transition may write, in one place so that the UPDATE
// and the repeat check cannot disagree.
struct DataColumn {
  const char* column;
  const std::optional<Bytes> TransitionData::*given;
  const Bytes MigrationRecord::*stored;
};
constexpr DataColumn kDataColumns[] = {
    {"content", &TransitionData::content, &MigrationRecord::content},
    {"content_hash", &TransitionData::content_hash,
     &MigrationRecord::content_hash},
    {"target_complete", &TransitionData::target_complete,
     &MigrationRecord::target_complete},
    {"confirmation", &TransitionData::confirmation,
     &MigrationRecord::confirmation},
    {"abort_message", &TransitionData::abort_message,
     &MigrationRecord::abort_message},
    {"abort_ack", &TransitionData::abort_ack, &MigrationRecord::abort_ack},
};

std::string Describe(std::string_view id, Role role) {
  return std::string(RoleName(role)) + " migration " + std::string(id);
}

// A file: URI for `path`: the characters URIs give meaning to are escaped
// so that any file name reaches SQLite unchanged.
std::string FileUri(const std::string& path, std::string_view query) {
  std::string uri = "file:";
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 15];
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?" + std::string(query);
}

}  // namespace

const char* const SqliteStore::kDueQuery =
    "SELECT id, role, state, group_id, epoch, ciphersuite, source_domain, "
    "target_domain, request, response, init_request, commit_message, content, "
    "content_hash, target_complete, confirmation, abort_message, abort_ack, "
    "attempt_count, next_attempt_at, lease_owner, lease_expires_at, "
    "last_error, stalled_since, created_at, updated_at FROM migrations "
    "WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?1 "
    "AND (lease_owner IS NULL OR lease_expires_at <= ?1) "
    "ORDER BY next_attempt_at LIMIT ?2";

// The cursor condition is spelled out (not a row value) so that the planner
// keeps the migrations_due range scan.
const char* const SqliteStore::kDueKeysQuery =
    "SELECT next_attempt_at, id, role FROM migrations "
    "WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?1 "
    "AND (lease_owner IS NULL OR lease_expires_at <= ?1) "
    "AND (?3 IS NULL OR next_attempt_at > ?3 OR (next_attempt_at = ?3 AND "
    "(id > ?4 OR (id = ?4 AND role > ?5)))) "
    "ORDER BY next_attempt_at, id, role LIMIT ?2";

SqliteStore::SqliteStore(std::shared_ptr<SqliteWriter> writer,
                         std::unique_ptr<SQLite::Database> reader,
                         const Clock& clock)
    : writer_(std::move(writer)), reader_(std::move(reader)), clock_(clock) {}

Status SqliteStore::CheckWritable() const {
  if (writer_) return Status::Ok();
  return Status(StatusCode::kFailedPrecondition,
                "the store was opened read-only");
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, const Clock& clock, SqliteStoreOptions options) {
  SqliteWriterOptions wo;
  wo.busy_timeout_ms = options.busy_timeout_ms;
  MIMI_ASSIGN_OR_RETURN(std::shared_ptr<SqliteWriter> writer,
                        SqliteWriter::Open(path, wo));
  return Open(std::move(writer), clock);
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    std::shared_ptr<SqliteWriter> writer, const Clock& clock) {
  if (!writer) return InvalidArgumentError("no writer for the store");
  const std::string& path = writer->path();
  try {
    // Read-write, so that it may recover a WAL left by a crash; it is only
    // ever used for reads.
    auto reader = std::make_unique<SQLite::Database>(
        path, SQLite::OPEN_READWRITE, writer->busy_timeout_ms());
    reader->exec("PRAGMA query_only = ON");
    MIMI_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*reader));
    if (version != LatestSchemaVersion()) {
      return Status(StatusCode::kFailedPrecondition,
                    path + ": schema version " + std::to_string(version) +
                        ", expected " + std::to_string(LatestSchemaVersion()) +
                        " (open the writer with upgrade_schema)");
    }
    return std::unique_ptr<SqliteStore>(
        new SqliteStore(std::move(writer), std::move(reader), clock));
  } catch (...) {
    return StatusFromCurrentException("opening " + path);
  }
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::OpenReadOnly(
    const std::string& path, const Clock& clock, SqliteStoreOptions options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFoundError(path + ": no database file");
  }
  // A file being created right now is not looked at half set up.
  MIMI_ASSIGN_OR_RETURN(
      OpenLock open_lock,
      OpenLock::Acquire(path, OpenLock::Mode::kShared,
                        std::chrono::milliseconds(options.busy_timeout_ms)));
  try {
    auto db = std::make_unique<SQLite::Database>(
        FileUri(path, "mode=ro"), SQLite::OPEN_READONLY | SQLite::OPEN_URI,
        options.busy_timeout_ms);
    MIMI_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*db));
    if (version == 0) {
      return Status(StatusCode::kFailedPrecondition,
                    path +
                        ": not a mimi-portability database (schema "
                        "version 0)");
    }
    if (version > LatestSchemaVersion()) {
      return Status(StatusCode::kFailedPrecondition,
                    path + ": database schema version " +
                        std::to_string(version) +
                        " is newer than this binary's " +
                        std::to_string(LatestSchemaVersion()));
    }
    return std::unique_ptr<SqliteStore>(
        new SqliteStore(nullptr, std::move(db), clock));
  } catch (...) {
    return StatusFromCurrentException("opening " + path + " read-only");
  }
}

Status SqliteStore::CreateMigration(const MigrationRecord& record, Role role,
                                    std::optional<UnixMillis> next_attempt_at,
                                    std::optional<UnixMillis> nonce_expires_at,
                                    std::string_view detail) {
  if (record.id.empty()) return InvalidArgumentError("migration id is empty");
  MigrationState state = InitialState(role);
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      UnixMillis now = clock_.NowMillis();
      if (nonce_expires_at) {
        SQLite::Statement nonce(
            db,
            "INSERT INTO issued_nonces (nonce, ciphersuite, "
            "issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)");
        nonce.bind(1, record.id);
        nonce.bind(2, static_cast<int>(record.ciphersuite));
        nonce.bind(3, static_cast<int64_t>(now));
        nonce.bind(4, static_cast<int64_t>(*nonce_expires_at));
        nonce.exec();
      }
      SQLite::Statement ins(
          db,
          "INSERT INTO migrations (id, role, state, group_id, epoch, "
          "ciphersuite, source_domain, target_domain, request, response, "
          "init_request, commit_message, next_attempt_at, created_at, "
          "updated_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
          "?14, "
          "?14)");
      ins.bind(1, record.id);
      ins.bind(2, std::string(RoleName(role)));
      ins.bind(3, std::string(StateName(state)));
      BindBlob(ins, 4, record.group_id);
      ins.bind(5, static_cast<int64_t>(record.epoch));
      ins.bind(6, static_cast<int>(record.ciphersuite));
      ins.bind(7, record.source_domain);
      ins.bind(8, record.target_domain);
      BindBytes(ins, 9, record.request);
      BindBytes(ins, 10, record.response);
      BindBytes(ins, 11, record.init_request);
      BindBytes(ins, 12, record.commit);
      BindOptional(ins, 13, next_attempt_at);
      ins.bind(14, static_cast<int64_t>(now));
      ins.exec();
      InsertEvent(db, record.id, role, std::nullopt, state, now, detail);
      return Status::Ok();
    } catch (...) {
      return StatusFromCurrentException("creating " +
                                        Describe(record.id, role));
    }
  });
}

Status SqliteStore::CreateSourceMigration(const MigrationRecord& record,
                                          std::string_view detail) {
  return CreateMigration(record, Role::kSource, clock_.NowMillis(),
                         std::nullopt, detail);
}

Status SqliteStore::CreateTargetMigration(const MigrationRecord& record,
                                          UnixMillis expires_at,
                                          std::string_view detail) {
  return CreateMigration(record, Role::kTarget, expires_at, expires_at, detail);
}

Result<TransitionOutcome> SqliteStore::Transition(std::string_view id,
                                                  Role role,
                                                  MigrationState from,
                                                  MigrationState to,
                                                  const TransitionData& data) {
  MIMI_ASSIGN_OR_RETURN(const TransitionRule* rule,
                        CheckTransition(role, from, to, data));
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Result<TransitionOutcome> {
    try {
      return TransitionJob(db, id, role, from, to, *rule, data);
    } catch (...) {
      return StatusFromCurrentException(std::string(StateName(from)) + " -> " +
                                        std::string(StateName(to)) + " of " +
                                        Describe(id, role));
    }
  });
}

Result<TransitionOutcome> SqliteStore::TransitionJob(
    SQLite::Database& db, std::string_view id, Role role, MigrationState from,
    MigrationState to, const TransitionRule& rule, const TransitionData& data) {
  UnixMillis now = clock_.NowMillis();
  std::optional<UnixMillis> next = data.next_attempt_at;
  if (!next && !IsTerminal(role, to)) next = now;

  // ?1..?6 fixed, then one parameter per data column.
  std::string sql =
      "UPDATE migrations SET state = ?1, updated_at = ?2, "
      "next_attempt_at = ?3, attempt_count = 0, last_error = NULL, "
      "stalled_since = NULL";
  int param = 7;
  for (const DataColumn& c : kDataColumns) {
    if (data.*c.given) {
      sql += std::string(", ") + c.column + " = ?" + std::to_string(param++);
    }
  }
  sql += " WHERE id = ?4 AND role = ?5 AND state = ?6";
  SQLite::Statement upd(db, sql);
  upd.bind(1, std::string(StateName(to)));
  upd.bind(2, static_cast<int64_t>(now));
  BindOptional(upd, 3, next);
  upd.bind(4, std::string(id));
  upd.bind(5, std::string(RoleName(role)));
  upd.bind(6, std::string(StateName(from)));
  param = 7;
  for (const DataColumn& c : kDataColumns) {
    if (data.*c.given) BindBytes(upd, param++, *(data.*c.given));
  }

  if (upd.exec() == 1) {
    InsertEvent(db, id, role, from, to, now, data.detail);
    if (rule.writes_tombstone) {
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
      // A group that came back and left again replaces its old tombstone.
      SQLite::Statement tomb(
          db,
          "INSERT INTO tombstones (group_id, target_domain, migration_id, "
          "moved_at, confirmation) VALUES (?1, ?2, ?3, ?4, ?5) "
          "ON CONFLICT (group_id) DO UPDATE SET "
          "target_domain = excluded.target_domain, "
          "migration_id = excluded.migration_id, "
          "moved_at = excluded.moved_at, "
          "confirmation = excluded.confirmation");
      BindBlob(tomb, 1, row.group_id);
      tomb.bind(2, row.target_domain);
      tomb.bind(3, row.id);
      tomb.bind(4, static_cast<int64_t>(now));
      BindBytes(tomb, 5, row.confirmation);
      tomb.exec();
    }
    return TransitionOutcome::kApplied;
  }

  // Nothing matched: no such row, a repeat, or a stale `from`. The read-only
  // checks below change nothing, and the writer rolls the job's savepoint
  // back whenever it returns an error.
  MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
  SQLite::Statement seen(db,
                         "SELECT COUNT(*) FROM migration_events "
                         "WHERE migration_id = ?1 AND role = ?2 "
                         "AND from_state = ?3 AND to_state = ?4");
  seen.bind(1, std::string(id));
  seen.bind(2, std::string(RoleName(role)));
  seen.bind(3, std::string(StateName(from)));
  seen.bind(4, std::string(StateName(to)));
  seen.executeStep();
  std::string what = std::string(StateName(from)) + " -> " +
                     std::string(StateName(to)) + " of " + Describe(id, role);
  if (seen.getColumn(0).getInt64() > 0) {
    for (const DataColumn& c : kDataColumns) {
      if (data.*c.given && *(data.*c.given) != row.*c.stored) {
        return Status(StatusCode::kFailedPrecondition,
                      what + " already happened with a different " + c.column);
      }
    }
    return TransitionOutcome::kAlreadyApplied;
  }
  return Status(StatusCode::kFailedPrecondition,
                what + ": the migration is in state " +
                    std::string(StateName(row.state)));
}

Status SqliteStore::AcquireLease(std::string_view id, Role role,
                                 std::string_view owner, int64_t duration_ms) {
  if (owner.empty()) return InvalidArgumentError("lease owner is empty");
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      UnixMillis now = clock_.NowMillis();
      SQLite::Statement upd(
          db,
          "UPDATE migrations SET lease_owner = ?1, lease_expires_at = ?2 "
          "WHERE id = ?3 AND role = ?4 AND (lease_owner IS NULL OR "
          "lease_expires_at <= ?5 OR lease_owner = ?1)");
      upd.bind(1, std::string(owner));
      upd.bind(2, static_cast<int64_t>(now + duration_ms));
      upd.bind(3, std::string(id));
      upd.bind(4, std::string(RoleName(role)));
      upd.bind(5, static_cast<int64_t>(now));
      if (upd.exec() == 1) {
        return Status::Ok();
      }
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
      return Status(StatusCode::kFailedPrecondition,
                    Describe(id, role) + " is leased by " +
                        row.lease_owner.value_or("?") + " until " +
                        std::to_string(row.lease_expires_at.value_or(0)));
    } catch (...) {
      return StatusFromCurrentException("leasing " + Describe(id, role));
    }
  });
}

Status SqliteStore::ReleaseLease(std::string_view id, Role role,
                                 std::string_view owner) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      SQLite::Statement upd(db,
                            "UPDATE migrations SET lease_owner = NULL, "
                            "lease_expires_at = NULL "
                            "WHERE id = ?1 AND role = ?2 AND lease_owner = ?3");
      upd.bind(1, std::string(id));
      upd.bind(2, std::string(RoleName(role)));
      upd.bind(3, std::string(owner));
      if (upd.exec() == 0) {
        // Tell "no such row" apart from "not ours", which is fine.
        MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
        (void)row;
      }
      return Status::Ok();
    } catch (...) {
      return StatusFromCurrentException("releasing " + Describe(id, role));
    }
  });
}

Status SqliteStore::RecordFailure(std::string_view id, Role role,
                                  std::string_view error,
                                  UnixMillis next_attempt_at, bool stalled) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      UnixMillis now = clock_.NowMillis();
      // A stall keeps its first time, so operators see how long it has lasted.
      SQLite::Statement upd(
          db,
          "UPDATE migrations SET attempt_count = attempt_count + 1, "
          "last_error = ?1, next_attempt_at = ?2, updated_at = ?3, "
          "stalled_since = CASE WHEN ?4 = 0 THEN NULL "
          "ELSE COALESCE(stalled_since, ?3) END "
          "WHERE id = ?5 AND role = ?6");
      upd.bind(1, std::string(error));
      upd.bind(2, static_cast<int64_t>(next_attempt_at));
      upd.bind(3, static_cast<int64_t>(now));
      upd.bind(4, stalled ? 1 : 0);
      upd.bind(5, std::string(id));
      upd.bind(6, std::string(RoleName(role)));
      if (upd.exec() == 0) return NotFoundError("no " + Describe(id, role));
      return Status::Ok();
    } catch (...) {
      return StatusFromCurrentException("recording a failure of " +
                                        Describe(id, role));
    }
  });
}

Status SqliteStore::ScheduleNow(std::string_view id, Role role) {
  MIMI_RETURN_IF_ERROR(CheckWritable());
  return writer_->Write([&](SQLite::Database& db) -> Status {
    try {
      MIMI_ASSIGN_OR_RETURN(MigrationRecord row, GetRow(db, id, role));
      if (IsTerminal(role, row.state)) {
        return Status(StatusCode::kFailedPrecondition,
                      Describe(id, role) + " is " +
                          std::string(StateName(row.state)) +
                          ", which has no next step to retry");
      }
      UnixMillis now = clock_.NowMillis();
      // The state in the WHERE makes this a compare-and-set against a
      // transition that lands between the read above and here (another
      // process: the mutex only covers this one).
      SQLite::Statement upd(
          db,
          "UPDATE migrations SET next_attempt_at = ?1, updated_at = ?1, "
          "attempt_count = 0, stalled_since = NULL "
          "WHERE id = ?2 AND role = ?3 AND state = ?4");
      upd.bind(1, static_cast<int64_t>(now));
      upd.bind(2, std::string(id));
      upd.bind(3, std::string(RoleName(role)));
      upd.bind(4, std::string(StateName(row.state)));
      if (upd.exec() != 1) {
        return Status(StatusCode::kFailedPrecondition,
                      Describe(id, role) + " changed state meanwhile");
      }
      return Status::Ok();
    } catch (...) {
      return StatusFromCurrentException("scheduling " + Describe(id, role));
    }
  });
}

Result<MigrationRecord> SqliteStore::Get(std::string_view id, Role role) {
  MutexLock lock(read_mu_);
  try {
    return GetRow(*reader_, id, role);
  } catch (...) {
    return StatusFromCurrentException("reading " + Describe(id, role));
  }
}

Result<std::vector<MigrationRecord>> SqliteStore::GetById(std::string_view id) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_, SelectFrom("WHERE id = ?1 ORDER BY role"));
    q.bind(1, std::string(id));
    return AllRows(q);
  } catch (...) {
    return StatusFromCurrentException("reading migration " + std::string(id));
  }
}

std::string SqliteStore::ListQuery(const ListFilter& filter) {
  // Only the filters that are set go into the WHERE clause: with
  // "?N IS NULL OR ..." for every filter SQLite cannot pick an index and
  // sorts the whole table on each call.
  std::string where;
  auto add = [&where](const char* condition) {
    where += where.empty() ? "WHERE " : " AND ";
    where += condition;
  };
  if (filter.role) add("role = ?1");
  if (filter.state) add("state = ?2");
  if (filter.group_id) add("group_id = ?3");
  return SelectFrom(where + " ORDER BY created_at DESC, id, role LIMIT ?4");
}

Result<std::vector<MigrationRecord>> SqliteStore::List(
    const ListFilter& filter) {
  if (filter.limit <= 0) {
    return InvalidArgumentError("list limit must be positive");
  }
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_, ListQuery(filter));
    if (filter.role) q.bind(1, std::string(RoleName(*filter.role)));
    if (filter.state) q.bind(2, std::string(StateName(*filter.state)));
    if (filter.group_id) BindBlob(q, 3, *filter.group_id);
    q.bind(4, filter.limit);
    return AllRows(q);
  } catch (...) {
    return StatusFromCurrentException("listing migrations");
  }
}

Result<std::vector<MigrationRecord>> SqliteStore::ListByGroup(
    ByteSpan group_id) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_,
                        SelectFrom("WHERE group_id = ?1 ORDER BY created_at"));
    BindBlob(q, 1, group_id);
    return AllRows(q);
  } catch (...) {
    return StatusFromCurrentException("listing a group's migrations");
  }
}

Result<std::vector<MigrationRecord>> SqliteStore::ListByState(
    Role role, MigrationState state, int limit) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_, SelectFrom("WHERE role = ?1 AND state = ?2 "
                                             "ORDER BY created_at LIMIT ?3"));
    q.bind(1, std::string(RoleName(role)));
    q.bind(2, std::string(StateName(state)));
    q.bind(3, limit);
    return AllRows(q);
  } catch (...) {
    return StatusFromCurrentException("listing migrations by state");
  }
}

Result<std::vector<StateCount>> SqliteStore::CountByState() {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_,
                        "SELECT role, state, COUNT(*) FROM migrations "
                        "GROUP BY role, state ORDER BY role, state");
    std::vector<StateCount> out;
    while (q.executeStep()) {
      StateCount c;
      MIMI_ASSIGN_OR_RETURN(c.role, ParseRole(q.getColumn(0).getString()));
      MIMI_ASSIGN_OR_RETURN(c.state, ParseState(q.getColumn(1).getString()));
      c.count = q.getColumn(2).getInt64();
      out.push_back(c);
    }
    return out;
  } catch (...) {
    return StatusFromCurrentException("counting migrations");
  }
}

Result<std::vector<MigrationRecord>> SqliteStore::ListDue(int limit) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_, kDueQuery);
    q.bind(1, static_cast<int64_t>(clock_.NowMillis()));
    q.bind(2, limit);
    return AllRows(q);
  } catch (...) {
    return StatusFromCurrentException("listing due migrations");
  }
}

Result<std::vector<DueKey>> SqliteStore::ListDueKeys(const DueKey* after,
                                                     int limit) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_, kDueKeysQuery);
    q.bind(1, static_cast<int64_t>(clock_.NowMillis()));
    q.bind(2, limit);
    if (after != nullptr) {
      q.bind(3, static_cast<int64_t>(after->next_attempt_at));
      q.bind(4, after->id);
      q.bind(5, std::string(RoleName(after->role)));
    }
    std::vector<DueKey> out;
    while (q.executeStep()) {
      DueKey k;
      k.next_attempt_at = q.getColumn(0).getInt64();
      k.id = q.getColumn(1).getString();
      MIMI_ASSIGN_OR_RETURN(k.role, ParseRole(q.getColumn(2).getString()));
      out.push_back(std::move(k));
    }
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing due migrations");
  }
}

Result<std::vector<MigrationRecord>> SqliteStore::ListStalled(int limit) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_,
                        SelectFrom("WHERE stalled_since IS NOT NULL "
                                   "ORDER BY stalled_since LIMIT ?1"));
    q.bind(1, limit);
    return AllRows(q);
  } catch (...) {
    return StatusFromCurrentException("listing stalled migrations");
  }
}

Result<int64_t> SqliteStore::CountStalled() {
  MutexLock lock(read_mu_);
  try {
    return reader_
        ->execAndGet(
            "SELECT COUNT(*) FROM migrations WHERE stalled_since IS NOT NULL")
        .getInt64();
  } catch (...) {
    return StatusFromCurrentException("counting stalled migrations");
  }
}

Result<std::optional<int64_t>> SqliteStore::OldestUnfinishedAgeMillis() {
  // Unfinished = not terminal for its role; built from the transition table
  // so that a new state cannot be forgotten here.
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
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_,
                        "SELECT MIN(created_at) FROM migrations WHERE " + cond);
    q.executeStep();
    if (q.getColumn(0).isNull()) return std::optional<int64_t>();
    return std::optional<int64_t>(clock_.NowMillis() -
                                  q.getColumn(0).getInt64());
  } catch (...) {
    return StatusFromCurrentException("finding the oldest open migration");
  }
}

Result<std::vector<MigrationEvent>> SqliteStore::Events(std::string_view id,
                                                        Role role) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_,
                        "SELECT seq, from_state, to_state, at, detail "
                        "FROM migration_events WHERE migration_id = ?1 "
                        "AND role = ?2 ORDER BY seq");
    q.bind(1, std::string(id));
    q.bind(2, std::string(RoleName(role)));
    std::vector<MigrationEvent> out;
    while (q.executeStep()) {
      MigrationEvent e;
      e.seq = q.getColumn(0).getInt64();
      e.migration_id = std::string(id);
      e.role = role;
      if (!q.getColumn(1).isNull()) {
        MIMI_ASSIGN_OR_RETURN(e.from_state,
                              ParseState(q.getColumn(1).getString()));
      }
      MIMI_ASSIGN_OR_RETURN(e.to_state, ParseState(q.getColumn(2).getString()));
      e.at = q.getColumn(3).getInt64();
      e.detail = q.getColumn(4).getString();
      out.push_back(std::move(e));
    }
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading the events of " +
                                      Describe(id, role));
  }
}

Result<IssuedNonce> SqliteStore::GetNonce(std::string_view nonce) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_,
                        "SELECT nonce, ciphersuite, issued_at, expires_at "
                        "FROM issued_nonces WHERE nonce = ?1");
    q.bind(1, std::string(nonce));
    if (!q.executeStep()) {
      return NotFoundError("nonce " + std::string(nonce) + " was not issued");
    }
    IssuedNonce n;
    n.nonce = q.getColumn(0).getString();
    n.ciphersuite = static_cast<uint16_t>(q.getColumn(1).getInt());
    n.issued_at = q.getColumn(2).getInt64();
    n.expires_at = q.getColumn(3).getInt64();
    return n;
  } catch (...) {
    return StatusFromCurrentException("reading a nonce");
  }
}

Result<Tombstone> SqliteStore::GetTombstone(ByteSpan group_id) {
  MutexLock lock(read_mu_);
  try {
    SQLite::Statement q(*reader_,
                        "SELECT group_id, target_domain, migration_id, "
                        "moved_at, confirmation FROM tombstones "
                        "WHERE group_id = ?1");
    BindBlob(q, 1, group_id);
    if (!q.executeStep()) return NotFoundError("no tombstone for the group");
    Tombstone t;
    t.group_id = ColumnBytes(q.getColumn(0));
    t.target_domain = q.getColumn(1).getString();
    t.migration_id = q.getColumn(2).getString();
    t.moved_at = q.getColumn(3).getInt64();
    t.confirmation = ColumnBytes(q.getColumn(4));
    return t;
  } catch (...) {
    return StatusFromCurrentException("reading a tombstone");
  }
}

Result<std::string> SqliteStore::ReadPragma(std::string_view name) {
  // PRAGMA names cannot be bound, so only identifiers get through.
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") !=
                          std::string::npos) {
    return InvalidArgumentError("not a pragma name: " + std::string(name));
  }
  auto read = [&](SQLite::Database& db) -> Result<std::string> {
    try {
      return db.execAndGet("PRAGMA " + std::string(name)).getString();
    } catch (...) {
      return StatusFromCurrentException("reading PRAGMA " + std::string(name));
    }
  };
  // The settings that matter are the write connection's.
  if (writer_) return writer_->Write(read);
  MutexLock lock(read_mu_);
  return read(*reader_);
}

}  // namespace mimi::store
