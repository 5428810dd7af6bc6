// mimi-portctl tokens issue|list|revoke --data-dir DIR: the client tokens
// that let a client import groups into this DS as a target (policy.target =
// "client-token") and create groups at its embedded DS. `issue` prints the
// token once (the DS keeps only its hash), optionally expiring; `list` shows
// names and dates, never a secret; `revoke` takes effect in a running daemon
// at its next check (it re-reads the file when it changes).
#include <time.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "codec/json_text.h"
#include "protocol/client_tokens.h"

namespace mimi::cli {
namespace {

// "30d", "12h", "90m", "3600s" -> milliseconds.
Result<int64_t> ParseDuration(const std::string& text) {
  if (text.size() < 2) {
    return InvalidArgumentError("--expires-in " + text + ": expected N[smhd], e.g. 30d");
  }
  int64_t n = 0;
  const char* end = text.data() + text.size() - 1;
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 3600 * 1000; break;
    case 'd': unit = 86400 * 1000; break;
    default: break;
  }
  // Bounded so that now + n * unit cannot overflow: 100 years at most.
  if (ec != std::errc() || ptr != end || unit == 0 || n <= 0 ||
      n > 100LL * 366 * 86400 * 1000 / unit) {
    return InvalidArgumentError("--expires-in " + text +
                                ": expected a positive N[smhd] up to 100 years, e.g. 30d");
  }
  return n * unit;
}

// RFC 3339 in UTC, "2027-01-31T12:00:00Z", or a date, "2027-01-31" (00:00 UTC).
Result<UnixMillis> ParseTime(const std::string& text) {
  struct tm t {};
  char rest = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &t.tm_year, &t.tm_mon,
                  &t.tm_mday, &t.tm_hour, &t.tm_min, &t.tm_sec, &rest,
                  &consumed) == 7 &&
      rest == 'Z' && static_cast<size_t>(consumed) == text.size()) {
  } else if (t = {}; std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &t.tm_year,
                                 &t.tm_mon, &t.tm_mday, &consumed) == 3 &&
                     static_cast<size_t>(consumed) == text.size()) {
  } else {
    return InvalidArgumentError("--expires-at " + text +
                                ": expected YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD (UTC)");
  }
  const struct tm given = t;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  const time_t seconds = timegm(&t);
  // timegm normalises 2027-02-30 into March: refuse what it had to change.
  if (seconds == static_cast<time_t>(-1) || t.tm_year + 1900 != given.tm_year ||
      t.tm_mon + 1 != given.tm_mon || t.tm_mday != given.tm_mday ||
      t.tm_hour != given.tm_hour || t.tm_min != given.tm_min ||
      t.tm_sec != given.tm_sec) {
    return InvalidArgumentError("--expires-at " + text + ": not a valid time");
  }
  return static_cast<UnixMillis>(seconds) * 1000;
}

std::string FormatTime(std::optional<UnixMillis> ms, const char* absent) {
  if (!ms) return absent;
  const time_t seconds = static_cast<time_t>(*ms / 1000);
  struct tm t {};
  gmtime_r(&seconds, &t);
  char out[32];
  std::strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &t);
  return out;
}

nlohmann::json MillisOrNull(std::optional<UnixMillis> ms) {
  return ms ? nlohmann::json(*ms) : nlohmann::json(nullptr);
}

struct TokensArgs {
  std::string name;
  std::string data_dir;
  std::string expires_in;
  std::string expires_at;
  bool json_output = false;
};

std::filesystem::path TokensFile(const TokensArgs& a) {
  return std::filesystem::path(a.data_dir) / "client_tokens";
}

void Issue(const TokensArgs& a) {
  // One reading of the time for both `created` and a relative expiry, so
  // that --expires-in 30d is exactly 30 days after `created` (two readings
  // could straddle a millisecond).
  const FakeClock clock(SystemClock::Get().NowMillis());
  std::optional<UnixMillis> expires;
  if (!a.expires_in.empty()) {
    auto d = ParseDuration(a.expires_in);
    if (!d.ok()) return ReportFailure(d.status());
    expires = clock.NowMillis() + *d;
  } else if (!a.expires_at.empty()) {
    auto t = ParseTime(a.expires_at);
    if (!t.ok()) return ReportFailure(t.status());
    expires = *t;
  }
  auto token = protocol::ClientTokens::Issue(TokensFile(a), a.name, expires, clock);
  if (!token.ok()) return ReportFailure(token.status());
  std::cout << *token << "\n";
}

void List(const TokensArgs& a) {
  auto tokens = protocol::ClientTokens::List(TokensFile(a));
  if (!tokens.ok()) return ReportFailure(tokens.status());
  const UnixMillis now = SystemClock::Get().NowMillis();
  if (a.json_output) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : *tokens) {
      out.push_back({{"name", t.name},
                     {"created_ms", MillisOrNull(t.created_ms)},
                     {"expires_ms", MillisOrNull(t.expires_ms)},
                     {"expired", t.expires_ms.has_value() && *t.expires_ms <= now}});
    }
    std::cout << codec::DumpJson(out, 2) << "\n";
    return;
  }
  std::printf("%-24s %-21s %s\n", "NAME", "CREATED", "EXPIRES");
  for (const auto& t : *tokens) {
    std::string expires = FormatTime(t.expires_ms, "never");
    if (t.expires_ms && *t.expires_ms <= now) expires += " (expired)";
    std::printf("%-24s %-21s %s\n", t.name.c_str(),
                FormatTime(t.created_ms, "-").c_str(), expires.c_str());
  }
}

void Revoke(const TokensArgs& a) {
  auto removed = protocol::ClientTokens::Revoke(TokensFile(a), a.name);
  if (!removed.ok()) return ReportFailure(removed.status());
  std::cout << "revoked " << *removed << " token" << (*removed == 1 ? "" : "s")
            << " of " << a.name << "\n";
}

void AddDataDir(CLI::App* cmd, TokensArgs* a) {
  cmd->add_option("--data-dir", a->data_dir, "the daemon's data directory")
      ->required();
}

}  // namespace

void RegisterTokens(CLI::App& app) {
  auto* tokens = app.add_subcommand("tokens", "Client tokens for importing and creating groups");
  tokens->require_subcommand(1);
  auto a = std::make_shared<TokensArgs>();

  auto* issue = tokens->add_subcommand(
      "issue", "Issue a token for a client; prints it once");
  issue->add_option("NAME", a->name, "the client's name (one word)")->required();
  AddDataDir(issue, a.get());
  auto* in = issue->add_option("--expires-in", a->expires_in,
                               "expire after N[smhd], e.g. 30d");
  issue->add_option("--expires-at", a->expires_at,
                    "expire at YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD (UTC)")
      ->excludes(in);
  issue->callback([a] { Issue(*a); });

  auto* list = tokens->add_subcommand(
      "list", "Names, creation and expiry of the tokens (never a secret)");
  AddDataDir(list, a.get());
  list->add_flag("--json", a->json_output, "print a JSON array");
  list->callback([a] { List(*a); });

  auto* revoke = tokens->add_subcommand(
      "revoke", "Revoke every token of a client (a running daemon notices)");
  revoke->add_option("NAME", a->name, "the client's name")->required();
  AddDataDir(revoke, a.get());
  revoke->callback([a] { Revoke(*a); });
}

}  // namespace mimi::cli
