// mimi-portctl status|list|show|watch|retry|abort|stats: the operator's view
// of migrations through the daemon's admin API, or the database read-only
// when the daemon is down (cli/admin_client.h). Every read command takes
// --json for a machine-readable document (watch: one JSON object per line,
// state changes and content upload progress);
// human output is aligned tables with relative times. Exit codes are those
// of cli/commands.h; status and watch exit 1 when a row ended aborted or
// expired.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/ops_format.h"
#include "codec/json_text.h"

namespace mimi::cli {
namespace {

using nlohmann::json;

struct OpsArgs {
  AdminClientOptions client;
  bool json_output = false;
  std::string id;
  std::string state, role, group, limit;
  int interval_ms = 1000;
};

// Adds the connection options every operator command shares.
CLI::App* AddOpsCommand(CLI::App& app, const char* name, const char* help,
                        const std::shared_ptr<OpsArgs>& args, bool reads) {
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->add_option("--admin", args->client.admin_url,
                  "admin API URL, e.g. http://127.0.0.1:8444")
      ->envname("MIMI_ADMIN_URL");
  cmd->add_option("--data-dir", args->client.data_dir,
                  "the daemon's data directory (admin.token, mimi.db)")
      ->envname("MIMI_DATA_DIR");
  cmd->add_option("--token-file", args->client.token_file,
                  "admin token file (default <data-dir>/admin.token)");
  if (reads) {
    cmd->add_flag("--json", args->json_output, "print machine-readable JSON");
  }
  return cmd;
}

std::string Str(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return codec::DumpJson(v);
}

std::string Ago(const json& now, const json& at) {
  if (at.is_null()) return "-";
  return RelativeTime(now.get<int64_t>(), at.get<int64_t>());
}

std::string Abbrev(const std::string& hex, size_t max) {
  if (hex.size() <= max) return hex;
  return hex.substr(0, max - 2) + "..";
}

bool IsTerminal(const std::string& state) {
  return state == "purged" || state == "aborted" || state == "imported" ||
         state == "expired";
}

bool IsFailed(const std::string& state) {
  return state == "aborted" || state == "expired";
}

// 1 when any row of a show document ended aborted or expired.
int StateExitCode(const json& show) {
  for (const json& m : show["migrations"]) {
    if (IsFailed(m["state"].get<std::string>())) return kExitFailedState;
  }
  return kExitOk;
}

// The lease column of list and the lease line of show: "-" when free,
// else the holder and whether it is alive; a dead holder's row is flagged
// (recovery takes its lease over at its next scan).
std::string LeaseText(const json& m) {
  const json& state = m["lease_state"];
  if (state.is_null()) return "-";
  const std::string holder = m["lease_holder"].is_null()
                                 ? Str(m["lease_owner"])
                                 : Str(m["lease_holder"]);
  const std::string s = state.get<std::string>();
  if (s == "dead-holder") return holder + " DEAD-HOLDER";
  if (s == "expired") return holder + " (expired)";
  return holder + (m["lease_holder_alive"] == true ? " (alive)" : "");
}

void PrintStatus(const json& show) {
  const json& now = show["now"];
  std::cout << "migration " << Str(show["id"]) << "\n";
  Table t({"ROLE", "STATE", "UPDATED", "ATTEMPTS", "NEXT", "STALLED", "LAST ERROR"});
  for (const json& m : show["migrations"]) {
    t.AddRow({Str(m["role"]), Str(m["state"]), Ago(now, m["updated_at"]),
              Str(m["attempt_count"]), Ago(now, m["next_attempt_at"]),
              m["stalled_since"].is_null() ? "-" : "since " + Ago(now, m["stalled_since"]),
              Str(m["last_error"])});
  }
  t.Print(std::cout);
}

json StatusJson(const json& show) {
  json rows = json::array();
  for (const json& m : show["migrations"]) {
    rows.push_back({{"role", m["role"]},
                    {"state", m["state"]},
                    {"updated_at", m["updated_at"]},
                    {"attempt_count", m["attempt_count"]},
                    {"next_attempt_at", m["next_attempt_at"]},
                    {"stalled_since", m["stalled_since"]},
                    {"last_error", m["last_error"]}});
  }
  return {{"id", show["id"]}, {"now", show["now"]}, {"migrations", rows}};
}

void PrintList(const json& list) {
  const json& now = list["now"];
  Table t({"ID", "ROLE", "STATE", "GROUP", "PEER", "CREATED", "UPDATED",
           "ATTEMPTS", "STALLED", "LEASE"});
  for (const json& m : list["migrations"]) {
    const bool source = m["role"] == "source";
    t.AddRow({Str(m["id"]), Str(m["role"]), Str(m["state"]),
              Abbrev(Str(m["group_id"]), 18),
              Str(source ? m["target_domain"] : m["source_domain"]),
              Ago(now, m["created_at"]), Ago(now, m["updated_at"]),
              Str(m["attempt_count"]),
              m["stalled_since"].is_null() ? "-" : Ago(now, m["stalled_since"]),
              LeaseText(m)});
  }
  t.Print(std::cout);
  std::cout << list["migrations"].size() << " migration(s)\n";
}

void PrintShow(const json& show) {
  const json& now = show["now"];
  std::cout << "migration " << Str(show["id"]) << "\n";
  for (const json& m : show["migrations"]) {
    std::cout << "\n";
    Table f({"role", Str(m["role"])});
    f.AddRow({"state", Str(m["state"])});
    f.AddRow({"group", Str(m["group_id"])});
    f.AddRow({"epoch", Str(m["epoch"])});
    f.AddRow({"ciphersuite", Str(m["ciphersuite"])});
    f.AddRow({"source", Str(m["source_domain"])});
    f.AddRow({"target", Str(m["target_domain"])});
    f.AddRow({"created", UtcTime(m["created_at"]) + " (" + Ago(now, m["created_at"]) + ")"});
    f.AddRow({"updated", UtcTime(m["updated_at"]) + " (" + Ago(now, m["updated_at"]) + ")"});
    f.AddRow({"attempts", Str(m["attempt_count"])});
    f.AddRow({"next attempt", Ago(now, m["next_attempt_at"])});
    f.AddRow({"lease", m["lease_owner"].is_null()
                           ? "-"
                           : Str(m["lease_owner"]) + " until " +
                                 Ago(now, m["lease_expires_at"])});
    if (!m["lease_state"].is_null()) {
      f.AddRow({"lease holder",
                LeaseText(m) + (m["lease_state"] == "dead-holder"
                                    ? ": taken over at the next recovery scan"
                                    : "")});
    }
    f.AddRow({"stalled", m["stalled_since"].is_null()
                             ? "no"
                             : "since " + Ago(now, m["stalled_since"])});
    f.AddRow({"last error", Str(m["last_error"])});
    // In protocol order (a JSON object's keys come back sorted).
    for (const char* name : {"request", "response", "init_request", "commit",
                             "content", "content_hash", "target_complete",
                             "confirmation", "abort_message", "abort_ack"}) {
      const json& hex = m["messages"][name];
      f.AddRow({std::string("  ") + name,
                hex.is_null() ? "-"
                              : std::to_string(hex.get<std::string>().size() / 2) +
                                    " bytes"});
    }
    f.Print(std::cout);
    std::cout << "events:\n";
    Table e({"  SEQ", "AT", "AGO", "FROM", "TO", "DETAIL"});
    for (const json& ev : m["events"]) {
      e.AddRow({"  " + Str(ev["seq"]), UtcTime(ev["at"]), Ago(now, ev["at"]),
                Str(ev["from"]), Str(ev["to"]), Str(ev["detail"])});
    }
    e.Print(std::cout);
  }
}

void PrintStats(const json& stats) {
  Table t({"ROLE", "STATE", "COUNT"});
  for (const json& c : stats["counts"]) {
    t.AddRow({Str(c["role"]), Str(c["state"]), Str(c["count"])});
  }
  t.Print(std::cout);
  const json& age = stats["oldest_unfinished_age_ms"];
  std::cout << "total " << Str(stats["total"]) << ", stalled "
            << Str(stats["stalled"]) << ", oldest unfinished "
            << (age.is_null() ? std::string("none")
                              : ShortDuration(age.get<int64_t>()) + " old")
            << "\n";
  // The holders the store keeps: every live one, the latest incarnation of
  // each instance, and dead ones still named by a lease.
  Table h({"LEASE HOLDER", "HOST", "PID", "STARTED", "HEARTBEAT", "ALIVE"});
  const json& now = stats["now"];
  for (const json& l : stats["lease_holders"]) {
    h.AddRow({Str(l["holder_id"]), Str(l["host"]), Str(l["pid"]),
              Ago(now, l["started_at"]), Ago(now, l["heartbeat_at"]),
              l["alive"] == true ? "yes" : "no"});
  }
  if (!stats["lease_holders"].empty()) h.Print(std::cout);
}

// One line for a content upload in flight: bar, sizes and rate so far.
std::string TransferLine(const json& t) {
  const uint64_t sent = t["sent_bytes"], total = t["total_bytes"];
  const int64_t elapsed_ms = t["updated_at"].get<int64_t>() - t["started_at"].get<int64_t>();
  std::string line = "sending content " + ProgressBar(sent, total);
  if (elapsed_ms > 0) {
    line += "  " + HumanBytes(sent * 1000 / static_cast<uint64_t>(elapsed_ms)) + "/s";
  }
  return line;
}

// Polls until every row of the id is terminal, printing each state change
// and, while the source uploads the content, its progress: a bar redrawn in
// place on a terminal, a line per poll that saw progress otherwise.
void Watch(OpsArgs& a) {
  AdminClient client(a.client);
  const bool redraw = isatty(STDOUT_FILENO) == 1 && !a.json_output;
  std::map<std::string, std::string> last;  // role -> state
  std::map<std::string, uint64_t> sent;     // role -> bytes, while uploading
  bool bar_open = false;  // a redrawn bar is on the current terminal line
  auto end_bar = [&] {
    if (bar_open) std::cout << "\n";
    bar_open = false;
  };
  for (;;) {
    Result<json> show = client.Show(a.id);
    if (!show.ok()) {
      end_bar();
      return ReportFailure(show.status());
    }
    bool done = true;
    for (const json& m : (*show)["migrations"]) {
      const std::string role = m["role"], state = m["state"];
      done = done && IsTerminal(state);
      auto it = last.find(role);
      if (it == last.end() || it->second != state) {
        const std::string previous = it == last.end() ? "" : it->second;
        last[role] = state;
        end_bar();
        if (a.json_output) {
          std::cout << codec::DumpJson(
                           json{{"id", (*show)["id"]},
                                {"role", role},
                                {"state", state},
                                {"previous", previous.empty() ? json(nullptr)
                                                              : json(previous)},
                                {"at", (*show)["now"]},
                                {"last_error", m["last_error"]}})
                    << std::endl;
        } else {
          std::cout << UtcTime((*show)["now"]) << "  " << role << "  "
                    << (previous.empty() ? state : previous + " -> " + state)
                    << (m["last_error"].is_null() ? "" : "  (last error: " +
                                                             Str(m["last_error"]) + ")")
                    << std::endl;
        }
      }
      const bool uploading = m.contains("transfer") && !m["transfer"].is_null();
      if (!uploading) {
        sent.erase(role);
        continue;
      }
      const json& t = m["transfer"];
      const uint64_t now_sent = t["sent_bytes"];
      auto s = sent.find(role);
      if (s != sent.end() && s->second == now_sent) continue;
      sent[role] = now_sent;
      if (a.json_output) {
        std::cout << codec::DumpJson(json{{"id", (*show)["id"]},
                                                {"role", role},
                                                {"transfer", t},
                                                {"at", (*show)["now"]}})
                  << std::endl;
      } else if (redraw) {
        std::cout << "\r" << UtcTime((*show)["now"]) << "  " << role << "  "
                  << TransferLine(t) << "\033[K" << std::flush;
        bar_open = true;
      } else {
        std::cout << UtcTime((*show)["now"]) << "  " << role << "  "
                  << TransferLine(t) << std::endl;
      }
    }
    if (done) {
      end_bar();
      return SetExitCode(StateExitCode(*show));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(a.interval_ms));
  }
}

}  // namespace

void RegisterOps(CLI::App& app) {
  auto args = std::make_shared<OpsArgs>();

  CLI::App* status = AddOpsCommand(app, "status", "One migration's state per role",
                                   args, true);
  status->add_option("ID", args->id, "migration id (64 hex digits)")->required();
  status->callback([args] {
    AdminClient client(args->client);
    Result<json> show = client.Show(args->id);
    if (!show.ok()) return ReportFailure(show.status());
    if (args->json_output) {
      std::cout << codec::DumpJson(StatusJson(*show), 2) << "\n";
    } else {
      PrintStatus(*show);
    }
    SetExitCode(StateExitCode(*show));
  });

  CLI::App* list = AddOpsCommand(app, "list", "Migrations, newest first", args, true);
  list->add_option("--state", args->state, "only this state (e.g. content-sent)");
  list->add_option("--role", args->role, "source or target");
  list->add_option("--group", args->group, "only this group id (hex)");
  list->add_option("--limit", args->limit, "at most N rows (default 100, max 1000)");
  list->callback([args] {
    AdminClient client(args->client);
    Result<json> r = client.List(args->state, args->role, args->group, args->limit);
    if (!r.ok()) return ReportFailure(r.status());
    if (args->json_output) {
      std::cout << codec::DumpJson(*r, 2) << "\n";
    } else {
      PrintList(*r);
    }
  });

  CLI::App* show = AddOpsCommand(
      app, "show", "Every field of a migration, its events and last error", args, true);
  show->add_option("ID", args->id, "migration id (64 hex digits)")->required();
  show->callback([args] {
    AdminClient client(args->client);
    Result<json> r = client.Show(args->id);
    if (!r.ok()) return ReportFailure(r.status());
    if (args->json_output) {
      std::cout << codec::DumpJson(*r, 2) << "\n";
    } else {
      PrintShow(*r);
    }
  });

  CLI::App* watch = AddOpsCommand(
      app, "watch",
      "Follow a migration until it is purged, imported, aborted or expired", args,
      true);
  watch->add_option("ID", args->id, "migration id (64 hex digits)")->required();
  watch->add_option("--interval-ms", args->interval_ms, "poll interval (default 1000)")
      ->check(CLI::Range(10, 600000));
  watch->callback([args] { Watch(*args); });

  for (const char* action : {"retry", "abort"}) {
    const bool retry = std::string(action) == "retry";
    CLI::App* cmd = AddOpsCommand(
        app, action,
        retry ? "Make a migration's next step due now and clear its stall"
              : "Start aborting a migration (source role)",
        args, false);
    cmd->add_option("ID", args->id, "migration id (64 hex digits)")->required();
    cmd->callback([args, name = std::string(action)] {
      AdminClient client(args->client);
      Result<json> r = client.Act(args->id, name);
      if (!r.ok()) return ReportFailure(r.status());
      std::cout << name << " of " << Str((*r)["id"]) << " accepted\n";
    });
  }

  CLI::App* stats = AddOpsCommand(
      app, "stats", "Migrations per role and state, stalled, oldest unfinished", args,
      true);
  stats->callback([args] {
    AdminClient client(args->client);
    Result<json> r = client.Stats();
    if (!r.ok()) return ReportFailure(r.status());
    if (args->json_output) {
      std::cout << codec::DumpJson(*r, 2) << "\n";
    } else {
      PrintStats(*r);
    }
  });
}

}  // namespace mimi::cli
