// A small RAII layer over libpq: one connection (PgConnection), one result
// (PgResult), the parameters of one statement (PgParams), and statements
// prepared by name (PgStatement) on first use on each connection.
//
// libpq rather than libpqxx: libpq is C, throws nothing, and reports every
// failure as a value with its SQLSTATE, which maps straight onto Status
// (pg_status.h); libpqxx reports through exceptions the store would have to
// catch at every call, and needs a second library on every machine. Results
// are fetched in binary format: integers arrive as their 8 bytes and bytea
// as its raw bytes, so a large message is never hex-decoded.
//
// Not thread-safe: one connection serves one thread at a time (PgPool hands
// them out). Movable, not copyable; closing is the destructor's.
#ifndef MIMI_STORE_PG_PG_CONNECTION_H_
#define MIMI_STORE_PG_PG_CONNECTION_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

struct pg_conn;
struct pg_result;

namespace mimi::store::pg {

// Where and as whom to connect. The password comes from a file or from
// the environment (PGPASSWORD, read by libpq itself), never from the URL,
// so that a configuration file holds no secret.
struct PgConnectOptions {
  std::string url;       // postgresql://user@host:port/dbname?options
  std::string password;  // empty: libpq's own sources (PGPASSWORD, .pgpass)
  int connect_timeout_s = 10;
};

// kInvalidArgument when `url` is not a PostgreSQL URL libpq can parse, or
// when it carries a password (which belongs in a password file).
Status CheckUrl(std::string_view url);

// The first line of the file at `path`, without its line end: the
// password_file of [store]. kNotFound / kInvalidArgument (empty) otherwise.
Result<std::string> ReadPasswordFile(const std::string& path);

// A statement prepared under `name` the first time a connection runs it.
// Both strings are constants of the caller.
struct PgStatement {
  const char* name;
  const char* sql;
};

// The parameters of one statement. Integers and text are copied; Blob
// keeps a pointer to the caller's bytes, which must outlive the statement
// run (it is sent without a copy: a content may be tens of MiB).
class PgParams {
 public:
  PgParams& Int(int64_t v);
  PgParams& Text(std::string_view v);
  PgParams& Blob(ByteSpan v);
  PgParams& Null();
  PgParams& OptionalInt(const std::optional<int64_t>& v);
  PgParams& OptionalText(const std::optional<std::string>& v);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::deque<std::string> owned_;  // a deque: its strings never move
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// One result of a statement that succeeded; cleared by the destructor.
// Accessors expect the row and column to exist (the caller's own query).
class PgResult {
 public:
  explicit PgResult(pg_result* r);
  ~PgResult();
  PgResult(PgResult&& other) noexcept;
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  // Rows an INSERT/UPDATE/DELETE touched.
  int64_t affected() const;
  bool IsNull(int row, int col) const;
  // Binary results: an integer column of any width; bool as 0/1.
  int64_t Int(int row, int col) const;
  std::optional<int64_t> OptionalInt(int row, int col) const;
  std::string Text(int row, int col) const;  // NULL reads as ""
  std::optional<std::string> OptionalText(int row, int col) const;
  Bytes Blob(int row, int col) const;  // NULL reads as empty

 private:
  pg_result* r_;
};

class PgConnection {
 public:
  // kUnavailable when the server cannot be reached or refuses us.
  static Result<std::unique_ptr<PgConnection>> Open(
      const PgConnectOptions& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` (one or more statements, no parameters) as a simple query;
  // the result of the last one, in text format. For DDL and BEGIN/COMMIT.
  Result<PgResult> Exec(std::string_view what, const std::string& sql);

  // Runs `stmt` with `params`, preparing it on this connection first if it
  // has not been; results in binary format.
  Result<PgResult> Run(std::string_view what, const PgStatement& stmt,
                       const PgParams& params = PgParams());

  // Runs `sql` with `params` unprepared (statements built at run time,
  // such as a filtered list); results in binary format.
  Result<PgResult> RunOnce(std::string_view what, const std::string& sql,
                           const PgParams& params = PgParams());

  // Whether the connection is gone (the server restarted, the network
  // broke): a pool drops it instead of handing it out again.
  bool broken() const;
  // The SQLSTATE of the last failure on this connection, "" if none.
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  explicit PgConnection(pg_conn* c) : c_(c) {}
  Result<PgResult> Check(std::string_view what, pg_result* r);

  pg_conn* c_;
  std::set<std::string> prepared_;
  std::string last_sqlstate_;
};

// BEGIN on construction (Begin), COMMIT on Commit, ROLLBACK when it goes
// out of scope uncommitted, so that an early return changes nothing.
class PgTransaction {
 public:
  // `begin` is the statement that opens it, e.g. "BEGIN ISOLATION LEVEL
  // REPEATABLE READ READ ONLY" for one snapshot.
  static Result<PgTransaction> Begin(PgConnection& c,
                                     const std::string& begin = "BEGIN");
  ~PgTransaction();
  PgTransaction(PgTransaction&& other) noexcept;
  PgTransaction& operator=(PgTransaction&&) = delete;
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;

  Status Commit();

 private:
  explicit PgTransaction(PgConnection* c) : c_(c) {}
  PgConnection* c_;  // null once committed, rolled back or moved from
};

}  // namespace mimi::store::pg

#endif  // MIMI_STORE_PG_PG_CONNECTION_H_
