// mimi-portctl store copy: moves a stopped daemon's SQLite database into an
// empty PostgreSQL database (coordinator/store/store_copy.h), for operators
// who outgrow one machine (docs/operations.md, "Moving to PostgreSQL").
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "codec/json_text.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "store/pg/pg_connection.h"
#include "store/store_copy.h"

namespace mimi::cli {

void RegisterStore(CLI::App& app) {
  auto* store_cmd = app.add_subcommand(
      "store", "Move the daemon's database to another engine");
  store_cmd->require_subcommand(1);

  struct Args {
    std::string from;
    std::string to;
    std::string password_file;
  };
  auto args = std::make_shared<Args>();
  auto* copy = store_cmd->add_subcommand(
      "copy",
      "Copy every table of a stopped daemon's SQLite file into an empty "
      "PostgreSQL database, then verify counts and digests");
  copy->add_option("--from", args->from, "sqlite:PATH of the daemon's database")
      ->required();
  copy->add_option("--to", args->to,
                   "postgresql://user@host:port/db URL (no password in it)")
      ->required();
  copy->add_option("--password-file", args->password_file,
                   "file whose first line is the password (else PGPASSWORD "
                   "or ~/.pgpass, as for the daemon)");
  copy->callback([args] {
    constexpr std::string_view kSqlite = "sqlite:";
    if (args->from.rfind(kSqlite, 0) != 0 ||
        args->from.size() == kSqlite.size()) {
      return ReportFailure(InvalidArgumentError(
          "--from: expected sqlite:PATH, got \"" + args->from + "\""));
    }
    store::pg::PgConnectOptions to;
    to.url = args->to;
    if (!args->password_file.empty()) {
      auto password = store::pg::ReadPasswordFile(args->password_file);
      if (!password.ok()) return ReportFailure(password.status());
      to.password = *password;
    }
    auto report = store::CopySqliteToPostgres(args->from.substr(kSqlite.size()),
                                              to, SystemClock::Get());
    if (!report.ok()) return ReportFailure(report.status());
    nlohmann::json tables = nlohmann::json::array();
    for (const auto& t : report->tables) {
      tables.push_back(
          {{"table", t.name}, {"rows", t.rows}, {"sha256", ToHex(t.sha256)}});
    }
    std::cout << codec::DumpJson(
                     nlohmann::json{
                         {"copied", true},
                         {"schema_version", report->schema_version},
                         {"verified", "every row read back and compared"},
                         {"tables", tables}},
                     2)
              << "\n";
  });
}

}  // namespace mimi::cli
