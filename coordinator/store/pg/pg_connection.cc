#include "store/pg/pg_connection.h"

#include <libpq-fe.h>

#include <cstring>
#include <fstream>
#include <utility>

#include "store/pg/pg_status.h"

namespace mimi::store::pg {
namespace {

constexpr int kText = 0;
constexpr int kBinary = 1;

// Notices ("relation already exists, skipping") are not errors; the store
// does not print them on the daemon's stderr.
void IgnoreNotice(void*, const char*) {}

uint64_t BigEndian(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

Status CheckUrl(std::string_view url) {
  if (!(url.starts_with("postgresql://") || url.starts_with("postgres://"))) {
    // Not echoed: a URL may carry a password.
    return InvalidArgumentError("store url must start with postgresql://");
  }
  char* error = nullptr;
  PQconninfoOption* opts = PQconninfoParse(std::string(url).c_str(), &error);
  if (opts == nullptr) {
    std::string detail = error ? error : "out of memory";
    PQfreemem(error);
    while (!detail.empty() && detail.back() == '\n') detail.pop_back();
    return InvalidArgumentError("store url does not parse: " + detail);
  }
  bool has_password = false;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr &&
        o->val[0] != '\0') {
      has_password = true;
    }
  }
  PQconninfoFree(opts);
  if (has_password) {
    return InvalidArgumentError(
        "store url carries a password; put it in [store] password_file or "
        "the PGPASSWORD environment variable instead");
  }
  return Status::Ok();
}

Result<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read password_file " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return InvalidArgumentError("password_file " + path +
                                " is empty (the first line is the password)");
  }
  return line;
}

PgParams& PgParams::Int(int64_t v) { return Text(std::to_string(v)); }

PgParams& PgParams::Text(std::string_view v) {
  owned_.emplace_back(v);
  values_.push_back(owned_.back().c_str());
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(kText);
  return *this;
}

PgParams& PgParams::Blob(ByteSpan v) {
  // A non-null pointer even for no bytes: NULL would mean SQL NULL.
  static const char kEmpty = 0;
  values_.push_back(v.empty() ? &kEmpty
                              : reinterpret_cast<const char*>(v.data()));
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(kBinary);
  return *this;
}

PgParams& PgParams::Null() {
  values_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(kText);
  return *this;
}

PgParams& PgParams::OptionalInt(const std::optional<int64_t>& v) {
  return v ? Int(*v) : Null();
}

PgParams& PgParams::OptionalText(const std::optional<std::string>& v) {
  return v ? Text(*v) : Null();
}

PgResult::PgResult(pg_result* r) : r_(r) {}
PgResult::~PgResult() {
  if (r_ != nullptr) PQclear(r_);
}
PgResult::PgResult(PgResult&& other) noexcept
    : r_(std::exchange(other.r_, nullptr)) {}
PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (r_ != nullptr) PQclear(r_);
    r_ = std::exchange(other.r_, nullptr);
  }
  return *this;
}

int PgResult::rows() const { return PQntuples(r_); }

int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_);
  return (n == nullptr || *n == '\0') ? 0 : std::stoll(n);
}

bool PgResult::IsNull(int row, int col) const {
  return PQgetisnull(r_, row, col) != 0;
}

int64_t PgResult::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  const char* p = PQgetvalue(r_, row, col);
  if (PQfformat(r_, col) == kText) return std::stoll(p);
  int n = PQgetlength(r_, row, col);
  uint64_t v = BigEndian(p, n);
  // Sign-extend the narrower integer types.
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  if (n == 2) return static_cast<int16_t>(static_cast<uint16_t>(v));
  return static_cast<int64_t>(v);
}

std::optional<int64_t> PgResult::OptionalInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col),
                     static_cast<size_t>(PQgetlength(r_, row, col)));
}

std::optional<std::string> PgResult::OptionalText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

Bytes PgResult::Blob(int row, int col) const {
  const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(r_, row, col));
  return Bytes(p, p + PQgetlength(r_, row, col));
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(
    const PgConnectOptions& options) {
  MIMI_RETURN_IF_ERROR(CheckUrl(options.url));
  const std::string timeout = std::to_string(options.connect_timeout_s);
  std::vector<const char*> keys = {"dbname", "connect_timeout",
                                   "application_name"};
  std::vector<const char*> values = {options.url.c_str(), timeout.c_str(),
                                     "mimi-portability"};
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 1: "dbname" holds the whole URL.
  pg_conn* c = PQconnectdbParams(keys.data(), values.data(), 1);
  if (c == nullptr) return UnavailableError("postgresql: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string message = PQerrorMessage(c);
    PQfinish(c);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return UnavailableError("cannot connect to postgresql: " + message);
  }
  PQsetNoticeProcessor(c, IgnoreNotice, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(c));
}

PgConnection::~PgConnection() { PQfinish(c_); }

bool PgConnection::broken() const { return PQstatus(c_) != CONNECTION_OK; }

Result<PgResult> PgConnection::Check(std::string_view what, pg_result* r) {
  PgResult owned(r);
  ExecStatusType st = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return owned;
  }
  const char* state =
      r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  last_sqlstate_ = state ? state : "";
  std::string message =
      r != nullptr && PQresultErrorMessage(r)[0] != '\0'
          ? PQresultErrorMessage(r)
          : PQerrorMessage(c_);
  return StatusFromSqlState(what, broken() ? "" : last_sqlstate_, message);
}

Result<PgResult> PgConnection::Exec(std::string_view what,
                                    const std::string& sql) {
  return Check(what, PQexec(c_, sql.c_str()));
}

Result<PgResult> PgConnection::Run(std::string_view what,
                                   const PgStatement& stmt,
                                   const PgParams& params) {
  if (!prepared_.contains(stmt.name)) {
    MIMI_ASSIGN_OR_RETURN(
        PgResult prepared,
        Check(what, PQprepare(c_, stmt.name, stmt.sql, 0, nullptr)));
    (void)prepared;
    prepared_.insert(stmt.name);
  }
  return Check(what,
               PQexecPrepared(c_, stmt.name, params.size(), params.values(),
                              params.lengths(), params.formats(), kBinary));
}

Result<PgResult> PgConnection::RunOnce(std::string_view what,
                                       const std::string& sql,
                                       const PgParams& params) {
  return Check(what,
               PQexecParams(c_, sql.c_str(), params.size(), nullptr,
                            params.values(), params.lengths(),
                            params.formats(), kBinary));
}

Result<PgTransaction> PgTransaction::Begin(PgConnection& c,
                                           const std::string& begin) {
  MIMI_ASSIGN_OR_RETURN(PgResult r, c.Exec("beginning a transaction", begin));
  (void)r;
  return PgTransaction(&c);
}

PgTransaction::PgTransaction(PgTransaction&& other) noexcept
    : c_(std::exchange(other.c_, nullptr)) {}

PgTransaction::~PgTransaction() {
  if (c_ != nullptr && !c_->broken()) {
    // Nothing to report: a failed rollback leaves the connection broken,
    // and the pool drops it.
    (void)c_->Exec("rolling back", "ROLLBACK");
  }
}

Status PgTransaction::Commit() {
  PgConnection* c = std::exchange(c_, nullptr);
  auto r = c->Exec("committing", "COMMIT");
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace mimi::store::pg
