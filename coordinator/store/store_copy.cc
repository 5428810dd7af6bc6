#include "store/store_copy.h"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "codec/writer.h"
#include "crypto/hash.h"
#include "store/pg/pg_schema_upgrade.h"
#include "store/schema_upgrade.h"
#include "store/sqlite_status.h"

namespace mimi::store {
namespace {

using pg::PgConnection;
using pg::PgParams;
using pg::PgResult;

// How a column's values travel: PostgreSQL's type decides, SQLite's value
// must be of the same kind (or NULL).
enum class Kind { kInt, kText, kBlob };

struct Column {
  std::string name;
  Kind kind = Kind::kText;
  bool identity = false;
};

struct Table {
  std::string name;
  std::vector<Column> columns;       // in PostgreSQL's order
  std::vector<std::string> pk;       // primary-key columns, in key order
  std::set<std::string> references;  // tables its foreign keys name
};

// Every refusal of the copy (kFailedPrecondition): nothing was written.
Status Refused(std::string detail) {
  return Status(StatusCode::kFailedPrecondition, "store-copy-refused",
                std::move(detail));
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

std::string ColumnList(const Table& t) {
  std::string out;
  for (const Column& c : t.columns) {
    if (!out.empty()) out += ", ";
    out += Quoted(c.name);
  }
  return out;
}

// Text keys compare bytewise on both sides: SQLite's BINARY collation and
// PostgreSQL's "C" (the database's own collation may order otherwise).
std::string OrderBy(const Table& t, bool postgres) {
  std::string out;
  for (const std::string& k : t.pk) {
    if (!out.empty()) out += ", ";
    out += Quoted(k);
    if (postgres) {
      for (const Column& c : t.columns) {
        if (c.name == k && c.kind == Kind::kText) out += " COLLATE \"C\"";
      }
    }
  }
  return out.empty() ? "" : " ORDER BY " + out;
}

// The canonical encoding of a row, the same from either engine: per value
// a tag (0 NULL, 1 integer, 2 text, 3 blob), then the integer's 8
// big-endian bytes, or the length (8 bytes) and the bytes.
constexpr uint8_t kNullTag = 0, kIntTag = 1, kTextTag = 2, kBlobTag = 3;

void WriteValue(codec::Writer& w, uint8_t tag, ByteSpan bytes) {
  w.WriteU8(tag);
  w.WriteU64(bytes.size());
  w.WriteRaw(bytes);
}

ByteSpan TextBytes(const std::string& s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// One SQLite row in canonical form; binds it into `params` too when given
// (a blob by pointer into the statement's row: `params` must be used
// before `q` steps again). kFailedPrecondition when a value is not of its
// column's kind.
Status SqliteRow(SQLite::Statement& q, const Table& t, int64_t row, Bytes& out,
                 PgParams* params) {
  codec::Writer w;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const Column& c = t.columns[i];
    SQLite::Column v = q.getColumn(static_cast<int>(i));
    const int type = v.getType();
    if (type == SQLITE_NULL) {
      w.WriteU8(kNullTag);
      if (params) params->Null();
      continue;
    }
    const bool fits = (c.kind == Kind::kInt && type == SQLITE_INTEGER) ||
                      (c.kind == Kind::kText && type == SQLITE_TEXT) ||
                      (c.kind == Kind::kBlob && type == SQLITE_BLOB);
    if (!fits) {
      return Refused("store copy: " + t.name + "." + c.name + " of row " +
                     std::to_string(row + 1) +
                     " holds a value of SQLite type " + std::to_string(type) +
                     ", not what PostgreSQL's column takes");
    }
    switch (c.kind) {
      case Kind::kInt:
        w.WriteU8(kIntTag);
        w.WriteU64(static_cast<uint64_t>(v.getInt64()));
        if (params) params->Int(v.getInt64());
        break;
      case Kind::kText: {
        const std::string text = v.getString();
        WriteValue(w, kTextTag, TextBytes(text));
        if (params) params->Text(text);
        break;
      }
      case Kind::kBlob: {
        // getBlob() before getBytes(), as SQLite asks.
        const auto* p = static_cast<const uint8_t*>(v.getBlob());
        const ByteSpan blob(p, static_cast<size_t>(v.getBytes()));
        WriteValue(w, kBlobTag, blob);
        if (params) params->Blob(blob);
        break;
      }
    }
  }
  MIMI_ASSIGN_OR_RETURN(out, std::move(w).Finish());
  return Status::Ok();
}

Status PgRow(const PgResult& r, int row, const Table& t, Bytes& out) {
  codec::Writer w;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const int col = static_cast<int>(i);
    if (r.IsNull(row, col)) {
      w.WriteU8(kNullTag);
      continue;
    }
    switch (t.columns[i].kind) {
      case Kind::kInt:
        w.WriteU8(kIntTag);
        w.WriteU64(static_cast<uint64_t>(r.Int(row, col)));
        break;
      case Kind::kText:
        WriteValue(w, kTextTag, TextBytes(r.Text(row, col)));
        break;
      case Kind::kBlob:
        WriteValue(w, kBlobTag, r.Blob(row, col));
        break;
    }
  }
  MIMI_ASSIGN_OR_RETURN(out, std::move(w).Finish());
  return Status::Ok();
}

// The file's tables with their columns, keys and references, in an order
// where every table comes after the tables its foreign keys name.
std::vector<Table> SqliteTables(SQLite::Database& db) {
  std::vector<Table> tables;
  SQLite::Statement names(db,
                          "SELECT name FROM sqlite_master WHERE type = "
                          "'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  while (names.executeStep()) {
    Table t;
    t.name = names.getColumn(0).getString();
    SQLite::Statement cols(db, "PRAGMA table_info(" + Quoted(t.name) + ")");
    std::map<int, std::string> pk;
    while (cols.executeStep()) {
      Column c;
      c.name = cols.getColumn(1).getString();
      t.columns.push_back(c);
      if (const int k = cols.getColumn(5).getInt(); k > 0) pk[k] = c.name;
    }
    for (auto& [k, name] : pk) t.pk.push_back(name);
    SQLite::Statement fks(db,
                          "PRAGMA foreign_key_list(" + Quoted(t.name) + ")");
    while (fks.executeStep()) {
      const std::string ref = fks.getColumn(2).getString();
      if (ref != t.name) t.references.insert(ref);
    }
    tables.push_back(std::move(t));
  }
  std::vector<Table> ordered;
  std::set<std::string> placed;
  while (!tables.empty()) {
    auto ready =
        std::find_if(tables.begin(), tables.end(), [&](const Table& t) {
          return std::all_of(
              t.references.begin(), t.references.end(),
              [&](const std::string& r) { return placed.count(r); });
        });
    // A reference cycle (none in the schema) would stop the sort: take the
    // first table, and let the foreign key refuse the copy.
    if (ready == tables.end()) ready = tables.begin();
    placed.insert(ready->name);
    ordered.push_back(std::move(*ready));
    tables.erase(ready);
  }
  return ordered;
}

// Fills each table's column kinds from PostgreSQL's catalog and checks that
// both engines have the same tables and columns.
Status MatchPgTables(PgConnection& c, std::vector<Table>& tables) {
  MIMI_ASSIGN_OR_RETURN(
      PgResult names,
      c.RunOnce("listing the tables",
                "SELECT table_name::text FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE "
                "TABLE' AND table_name <> 'mimi_schema_version' ORDER BY 1"));
  std::set<std::string> pg_tables, sqlite_tables;
  for (int i = 0; i < names.rows(); ++i) pg_tables.insert(names.Text(i, 0));
  for (const Table& t : tables) sqlite_tables.insert(t.name);
  if (pg_tables != sqlite_tables) {
    std::string only;
    for (const auto& n : sqlite_tables) {
      if (!pg_tables.count(n)) only += " " + n + " (SQLite only)";
    }
    for (const auto& n : pg_tables) {
      if (!sqlite_tables.count(n)) only += " " + n + " (PostgreSQL only)";
    }
    return Refused("store copy: the two databases' tables differ:" + only);
  }
  for (Table& t : tables) {
    MIMI_ASSIGN_OR_RETURN(
        PgResult cols,
        c.RunOnce("reading the columns of " + t.name,
                  "SELECT column_name::text, data_type::text, "
                  "is_identity::text FROM information_schema.columns WHERE "
                  "table_schema = current_schema() AND table_name = $1 "
                  "ORDER BY ordinal_position",
                  PgParams().Text(t.name)));
    std::set<std::string> sqlite_cols;
    for (const Column& col : t.columns) sqlite_cols.insert(col.name);
    std::vector<Column> columns;
    for (int i = 0; i < cols.rows(); ++i) {
      Column col;
      col.name = cols.Text(i, 0);
      const std::string type = cols.Text(i, 1);
      col.identity = cols.Text(i, 2) == "YES";
      if (type == "bigint" || type == "integer" || type == "smallint") {
        col.kind = Kind::kInt;
      } else if (type == "text") {
        col.kind = Kind::kText;
      } else if (type == "bytea") {
        col.kind = Kind::kBlob;
      } else {
        return Refused("store copy: " + t.name + "." + col.name +
                       " has PostgreSQL type " + type +
                       ", which the copy does not know");
      }
      if (!sqlite_cols.erase(col.name)) {
        return Refused("store copy: column " + t.name + "." + col.name +
                       " is in PostgreSQL only");
      }
      columns.push_back(col);
    }
    if (!sqlite_cols.empty()) {
      return Refused("store copy: column " + t.name + "." +
                     *sqlite_cols.begin() + " is in SQLite only");
    }
    t.columns = std::move(columns);
  }
  return Status::Ok();
}

Status RefuseLiveHolders(SQLite::Database& db, const Clock& clock) {
  SQLite::Statement q(db,
                      "SELECT holder_id, host, pid FROM lease_holders WHERE "
                      "ended_at IS NULL AND alive_until > ?1 ORDER BY 1");
  q.bind(1, static_cast<int64_t>(clock.NowMillis()));
  if (q.executeStep()) {
    return Refused(
        "store copy: a daemon is running on this file (lease holder " +
        q.getColumn(0).getString() + " on " + q.getColumn(1).getString() +
        ", pid " + std::to_string(q.getColumn(2).getInt64()) +
        "); stop it first, or wait for its heartbeat timeout if it died");
  }
  return Status::Ok();
}

// Copies one table inside the open transaction and checks it back.
Result<CopiedTable> CopyTable(SQLite::Database& src, PgConnection& c,
                              const Table& t) {
  CopiedTable out{t.name, 0, {}};
  const std::string select =
      "SELECT " + ColumnList(t) + " FROM " + Quoted(t.name) + OrderBy(t, false);
  std::string values;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    values += (i ? ", $" : "$") + std::to_string(i + 1);
  }
  const std::string insert_sql = "INSERT INTO " + Quoted(t.name) + " (" +
                                 ColumnList(t) + ") VALUES (" + values + ")";
  const std::string insert_name = "store_copy_insert_" + t.name;
  const pg::PgStatement insert{insert_name.c_str(), insert_sql.c_str()};

  MIMI_ASSIGN_OR_RETURN(auto sqlite_hash, crypto::IncrementalHash::Start(
                                              crypto::HashAlgorithm::kSha256));
  Bytes row;
  {
    SQLite::Statement q(src, select);
    for (; q.executeStep(); ++out.rows) {
      PgParams params;
      MIMI_RETURN_IF_ERROR(SqliteRow(q, t, out.rows, row, &params));
      MIMI_RETURN_IF_ERROR(sqlite_hash.Update(row));
      MIMI_ASSIGN_OR_RETURN(PgResult r,
                            c.Run("copying " + t.name, insert, params));
      (void)r;
    }
  }
  MIMI_ASSIGN_OR_RETURN(out.sha256, sqlite_hash.Finish());
  for (const Column& col : t.columns) {
    if (!col.identity) continue;
    MIMI_ASSIGN_OR_RETURN(
        PgResult r,
        c.RunOnce("continuing the sequence of " + t.name + "." + col.name,
                  "SELECT setval(pg_get_serial_sequence($1, $2), "
                  "COALESCE((SELECT MAX(" +
                      Quoted(col.name) + ") FROM " + Quoted(t.name) +
                      "), 0) + 1, false)",
                  PgParams().Text(t.name).Text(col.name)));
    (void)r;
  }

  // Read back: both sides in key order, row for row, in batches.
  MIMI_ASSIGN_OR_RETURN(auto pg_hash, crypto::IncrementalHash::Start(
                                          crypto::HashAlgorithm::kSha256));
  MIMI_ASSIGN_OR_RETURN(
      PgResult declared,
      c.Exec("reading " + t.name + " back",
             "DECLARE store_copy_check NO SCROLL CURSOR FOR SELECT " +
                 ColumnList(t) + " FROM " + Quoted(t.name) + OrderBy(t, true)));
  (void)declared;
  SQLite::Statement again(src, select);
  int64_t seen = 0;
  Bytes pg_row;
  // Rows with messages may be large (a content is the whole group state):
  // those tables come back a few rows at a time.
  const bool has_blobs =
      std::any_of(t.columns.begin(), t.columns.end(),
                  [](const Column& col) { return col.kind == Kind::kBlob; });
  const std::string fetch = std::string("FETCH ") + (has_blobs ? "8" : "256") +
                            " FROM store_copy_check";
  for (;;) {
    MIMI_ASSIGN_OR_RETURN(PgResult batch,
                          c.RunOnce("reading " + t.name + " back", fetch));
    if (batch.rows() == 0) break;
    for (int i = 0; i < batch.rows(); ++i, ++seen) {
      MIMI_RETURN_IF_ERROR(PgRow(batch, i, t, pg_row));
      MIMI_RETURN_IF_ERROR(pg_hash.Update(pg_row));
      if (!again.executeStep()) {
        return InternalError("store copy: " + t.name +
                             " has more rows in "
                             "PostgreSQL than in SQLite after the copy");
      }
      MIMI_RETURN_IF_ERROR(SqliteRow(again, t, seen, row, nullptr));
      if (row != pg_row) {
        return InternalError("store copy: row " + std::to_string(seen + 1) +
                             " of " + t.name +
                             " (in key order) reads back "
                             "differently from PostgreSQL");
      }
    }
  }
  MIMI_ASSIGN_OR_RETURN(PgResult closed, c.Exec("reading " + t.name + " back",
                                                "CLOSE store_copy_check"));
  (void)closed;
  MIMI_ASSIGN_OR_RETURN(Bytes pg_digest, pg_hash.Finish());
  if (seen != out.rows || again.executeStep() || pg_digest != out.sha256) {
    return InternalError(
        "store copy: " + t.name + " has " + std::to_string(seen) +
        " rows in PostgreSQL after "
        "the copy against " +
        std::to_string(out.rows) + " in SQLite, or their digests differ");
  }
  return out;
}

}  // namespace

Result<CopyReport> CopySqliteToPostgres(const std::string& sqlite_path,
                                        const pg::PgConnectOptions& to,
                                        const Clock& clock) {
  MIMI_RETURN_IF_ERROR(pg::CheckUrl(to.url));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(sqlite_path, ec)) {
    return NotFoundError("store copy: no SQLite database at " + sqlite_path);
  }
  return Guarded("copying " + sqlite_path, [&]() -> Result<CopyReport> {
    SQLite::Database src(sqlite_path, SQLite::OPEN_READONLY);
    src.setBusyTimeout(5000);
    CopyReport report;
    MIMI_ASSIGN_OR_RETURN(report.schema_version, ReadSchemaVersion(src));
    if (report.schema_version != LatestSchemaVersion()) {
      return Refused(
          "store copy: " + sqlite_path + " is at schema version " +
          std::to_string(report.schema_version) + ", this binary's is " +
          std::to_string(LatestSchemaVersion()) +
          "; start and stop the daemon of this version on it once first");
    }
    // One snapshot of the file for the whole copy and its check.
    src.exec("BEGIN");
    MIMI_RETURN_IF_ERROR(RefuseLiveHolders(src, clock));
    std::vector<Table> tables = SqliteTables(src);

    MIMI_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> c,
                          PgConnection::Open(to));
    // Only a new database is brought to this version here: a used one at
    // another version is refused before the upgrade would change it.
    MIMI_ASSIGN_OR_RETURN(const int pg_version, pg::ReadPgSchemaVersion(*c));
    if (pg_version != 0 && pg_version != LatestSchemaVersion()) {
      return Refused("store copy: the PostgreSQL database has schema version " +
                     std::to_string(pg_version) +
                     "; copy into a new, empty database");
    }
    MIMI_RETURN_IF_ERROR(pg::UpgradePgSchema(*c));
    MIMI_ASSIGN_OR_RETURN(pg::PgTransaction tx, pg::PgTransaction::Begin(*c));
    MIMI_RETURN_IF_ERROR(MatchPgTables(*c, tables));
    // No daemon on the new database writes while it is being filled, and
    // a second copy waits for this one, then finds it not empty.
    std::string all;
    for (const Table& t : tables)
      all += (all.empty() ? "" : ", ") + Quoted(t.name);
    MIMI_ASSIGN_OR_RETURN(
        PgResult locked,
        c->Exec("locking the tables",
                "LOCK TABLE " + all + " IN ACCESS EXCLUSIVE MODE"));
    (void)locked;
    for (const Table& t : tables) {
      MIMI_ASSIGN_OR_RETURN(
          PgResult any,
          c->RunOnce("checking that " + t.name + " is empty",
                     "SELECT 1 FROM " + Quoted(t.name) + " LIMIT 1"));
      if (any.rows() > 0) {
        return Refused("store copy: the PostgreSQL database is not empty (" +
                       t.name + " has rows); copy into a new, empty database");
      }
    }
    for (const Table& t : tables) {
      MIMI_ASSIGN_OR_RETURN(CopiedTable copied, CopyTable(src, *c, t));
      report.tables.push_back(std::move(copied));
    }
    MIMI_RETURN_IF_ERROR(tx.Commit());
    src.exec("COMMIT");
    return report;
  });
}

}  // namespace mimi::store
