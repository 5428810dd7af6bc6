#include "testing/chaos_client.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "embedded_ds/embedded_ds.h"
#include "keys/ds_key_store.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/messages.h"
#include "store/sqlite_store.h"
#include "testing/ds_member.h"
#include "testing/http_reply.h"
#include "testing/synthetic_mls.h"

namespace mimi::testing {
namespace {

using nlohmann::json;
using store::MigrationState;
using store::Role;

constexpr char kType[] = "application/mimi-portability";
constexpr auto kRetryPause = std::chrono::milliseconds(50);

using Reply = HttpReply;

Reply PostBytes(httplib::Client& c, const std::string& path, const Bytes& body,
                const httplib::Headers& headers = {}) {
  return testing::PostBytes(c, path, body, kType, headers);
}

bool Retryable(const Reply& r) {
  return !r.answered || r.status >= 500 || r.status == 429;
}

const SystemClock& Clock() { return SystemClock::Get(); }

std::string StateOf(const PortdPair& pair, Side side, const std::string& id) {
  auto store =
      store::SqliteStore::OpenReadOnly(pair.DatabasePath(side), Clock());
  if (!store.ok()) return "open: " + store.status().ToString();
  auto row =
      (*store)->Get(id, side == Side::kSource ? Role::kSource : Role::kTarget);
  if (!row.ok()) return std::string(row.status().reason());
  return std::string(store::StateName(row->state));
}

}  // namespace

const char* OutcomeName(ClientMigration::Outcome outcome) {
  switch (outcome) {
    case ClientMigration::Outcome::kRunning:
      return "running";
    case ClientMigration::Outcome::kConfirmed:
      return "confirmed";
    case ClientMigration::Outcome::kAborted:
      return "aborted";
    case ClientMigration::Outcome::kFailed:
      return "failed";
  }
  return "?";
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : "; ") + s;
  return out;
}

Result<ClientMigration> CreateGroup(const PortdPair& pair,
                                    const std::string& label) {
  ClientMigration m;
  m.label = label;
  m.group_id = ToBytes("chaos-" + label);
  MIMI_ASSIGN_OR_RETURN(auto cs, crypto::LookupCipherSuite(m.suite));
  std::vector<SyntheticMember> members;
  for (const char* name : {"alice", "bob", "carol"}) {
    MIMI_ASSIGN_OR_RETURN(auto key,
                          crypto::SigningKey::Generate(cs.signature_scheme));
    members.push_back({name, key.public_key().encoded()});
    m.keys.push_back(std::move(key));
  }
  m.ratchet_tree = SyntheticRatchetTree(m.suite, members);
  MIMI_ASSIGN_OR_RETURN(Bytes aad,
                        Encode(MigrationCommitAAD{ToBytes("target.test")}));
  m.commit = SyntheticPublicCommit(m.group_id, kChaosEpoch, 1, aad);
  m.group_info = SyntheticGroupInfo(m.suite, m.group_id, kChaosEpoch, m.ratchet_tree, 0,
                                    m.keys[0]);
  json create = {{"group_info", ToHex(m.group_info)},
                 {"ratchet_tree", ToHex(m.ratchet_tree)}};
  auto client = pair.Client(Side::kSource);
  Reply r = ToHttpReply(client->Post(
      "/ds/v1/groups", ClientTokenHeaders(pair.source_client_token()),
      mimi::codec::DumpJson(create), "application/json"));
  if (Retryable(r)) return UnavailableError("create group: " + r.error);
  if (r.status != 201) {
    return InternalError("create group: " + std::to_string(r.status) + " " +
                         r.body);
  }
  return m;
}

Result<ClientMigration> CreateGroupRetrying(
    const PortdPair& pair, const std::string& label,
    std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto m = CreateGroup(pair, label);
    if (m.ok() || m.status().code() != StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      return m;
    }
    std::this_thread::sleep_for(kRetryPause);
  }
}

void RunClient(const PortdPair& pair, ClientMigration& m,
               std::chrono::steady_clock::time_point deadline,
               const std::atomic<bool>* stop) {
  auto go_on = [&] {
    return std::chrono::steady_clock::now() < deadline &&
           !(stop && stop->load());
  };
  auto target = pair.Client(Side::kTarget);
  auto source = pair.Client(Side::kSource);
  // 1. A MigrationResponse from the target; a lost answer means a new ask.
  while (m.init_body.empty() && go_on()) {
    MigrationRequest request{ToBytes("source.test"), ToBytes("target.test"),
                             m.group_id, kChaosEpoch};
    ++m.requests;
    Reply r =
        PostBytes(*target, "/mimi-portability/v1/request", *Encode(request),
                  {{"MIMI-Cipher-Suite", std::to_string(m.suite)},
                   {"Authorization", "Bearer " + pair.client_token()}});
    if (Retryable(r)) {
      std::this_thread::sleep_for(kRetryPause);
      continue;
    }
    if (r.status != 200) {
      m.outcome = ClientMigration::Outcome::kFailed;
      m.error = "request: " + std::to_string(r.status) + " " + r.body;
      return;
    }
    auto response = Decode<MigrationResponse>(ToBytes(r.body));
    if (!response.ok()) {
      m.outcome = ClientMigration::Outcome::kFailed;
      m.error = "response: " + response.status().ToString();
      return;
    }
    MigrationInit init{*response, {}};
    if (Status s = crypto::SignMessage(m.keys[1], &init); !s.ok()) {
      m.outcome = ClientMigration::Outcome::kFailed;
      m.error = "sign: " + s.ToString();
      return;
    }
    m.id = ToHex(response->nonce);
    m.init_body = *Encode(MigrationInitRequest{init, 1, m.commit});
  }
  // 2. The init, byte-identical every time, until confirmed or refused.
  while (go_on()) {
    ++m.inits;
    Reply r = PostBytes(*source, "/mimi-portability/v1/init", m.init_body);
    if (r.answered && r.status == 200) {
      m.confirmation = ToBytes(r.body);
      m.outcome = ClientMigration::Outcome::kConfirmed;
      return;
    }
    if (r.answered && r.status == 409 && r.error == "migration-aborted") {
      m.outcome = ClientMigration::Outcome::kAborted;
      return;
    }
    if (!Retryable(r) && !(r.answered && r.status == 202)) {
      m.outcome = ClientMigration::Outcome::kFailed;
      m.error = "init: " + std::to_string(r.status) + " " + r.body;
      return;
    }
    std::this_thread::sleep_for(kRetryPause * 2);
  }
}

Status WaitSettled(const PortdPair& pair, const ClientMigration& m,
                   std::chrono::steady_clock::time_point deadline) {
  std::string source_state, target_state;
  for (;;) {
    source_state = StateOf(pair, Side::kSource, m.id);
    target_state = StateOf(pair, Side::kTarget, m.id);
    const bool source_done =
        source_state == "purged" || source_state == "aborted";
    const bool target_done =
        target_state == "imported" || target_state == "aborted";
    if (source_done && target_done) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return UnavailableError("migration " + m.label + " (" + m.id +
                          ") not settled: source " + source_state +
                          ", target " + target_state);
}

std::vector<std::string> CheckMoved(const PortdPair& pair,
                                    const ClientMigration& m) {
  std::vector<std::string> bad;
  auto fail = [&](const std::string& what) {
    bad.push_back(m.label + ": " + what);
  };
  if (m.id.empty()) {
    fail("never got a MigrationResponse");
    return bad;
  }
  auto source_store = store::SqliteStore::OpenReadOnly(
      pair.DatabasePath(Side::kSource), Clock());
  auto target_store = store::SqliteStore::OpenReadOnly(
      pair.DatabasePath(Side::kTarget), Clock());
  auto source_ds =
      embedded_ds::EmbeddedDs::Open(pair.DatabasePath(Side::kSource), Clock());
  auto target_ds =
      embedded_ds::EmbeddedDs::Open(pair.DatabasePath(Side::kTarget), Clock());
  if (!source_store.ok() || !target_store.ok() || !source_ds.ok() ||
      !target_ds.ok()) {
    fail("cannot open the databases");
    return bad;
  }
  // Rows: the source migrated the group once, the target imported it once.
  auto source_rows = (*source_store)->ListByGroup(m.group_id);
  auto target_rows = (*target_store)->ListByGroup(m.group_id);
  if (!source_rows.ok() || !target_rows.ok()) {
    fail("ListByGroup failed");
    return bad;
  }
  int source_purged = 0, source_other = 0, target_imported = 0,
      target_unfinished = 0;
  for (const auto& r : *source_rows) {
    if (r.role != Role::kSource) continue;
    (r.state == MigrationState::kPurged && r.id == m.id) ? ++source_purged
                                                         : ++source_other;
  }
  for (const auto& r : *target_rows) {
    if (r.role != Role::kTarget) continue;
    if (r.state == MigrationState::kImported) {
      ++target_imported;
      if (r.id != m.id) fail("the target imported under another nonce " + r.id);
    } else if (r.state != MigrationState::kRequested &&
               r.state != MigrationState::kExpired) {
      ++target_unfinished;
    }
  }
  if (source_purged != 1 || source_other != 0) {
    fail("source rows: " + std::to_string(source_purged) + " purged, " +
         std::to_string(source_other) + " other (want 1, 0)");
  }
  if (target_imported != 1) {
    fail("target imported " + std::to_string(target_imported) + " times");
  }
  if (target_unfinished != 0)
    fail("target has rows neither imported nor requested");

  // The group lives on exactly one DS: a tombstone at the source.
  if (auto g = (*source_ds)->LookupGroup(m.group_id); g.ok()) {
    fail("the group still lives at the source");
  }
  auto tomb = (*source_ds)->LookupTombstone(m.group_id);
  if (!tomb.ok() || tomb->moved_to != "target.test") {
    fail("no tombstone naming target.test at the source");
  }
  auto source = pair.Client(Side::kSource);
  auto moved =
      source->Get(("/ds/v1/groups/" + ToHex(m.group_id) + "/messages").c_str());
  if (!moved || moved->status != 410 ||
      mimi::codec::ParseJson(moved->body).value("moved_to", "") !=
          "target.test") {
    fail("the source's DS does not answer 410 moved_to target.test");
  }
  auto details = (*target_ds)->Details(m.group_id);
  if (!details.ok()) {
    fail("the group is not at the target: " + details.status().ToString());
  } else if (details->summary.epoch != kChaosEpoch + 1 ||
             details->summary.frozen) {
    fail("target group at epoch " + std::to_string(details->summary.epoch) +
         (details->summary.frozen ? ", frozen" : ""));
  }
  // The commit reached the group's members exactly once.
  auto messages = (*target_ds)->FetchMessages(m.group_id, 0, 1000);
  if (!messages.ok()) {
    fail("target messages: " + messages.status().ToString());
  } else {
    int commits = 0;
    for (const auto& msg : *messages)
      commits += msg.message == m.commit ? 1 : 0;
    if (commits != 1 || messages->size() != 1) {
      fail("the migration commit is " + std::to_string(commits) + " of " +
           std::to_string(messages->size()) + " messages at the target");
    }
  }
  // The client's confirmation, from the status endpoint.
  auto status =
      source->Get(("/mimi-portability/v1/migrations/" + m.id).c_str());
  if (!status || status->status != 200) {
    fail("status endpoint did not answer 200");
    return bad;
  }
  auto sj = mimi::codec::ParseJson(status->body);
  auto raw = FromHex(sj.is_object() ? sj.value("confirmation", "") : "");
  auto confirmation = raw.ok() ? Decode<MigrationConfirmation>(*raw)
                               : Result<MigrationConfirmation>(raw.status());
  if (!confirmation.ok()) {
    fail("no decodable confirmation in " + status->body);
    return bad;
  }
  if (ToString(confirmation->domain_name) != "target.test" ||
      ToHex(confirmation->nonce) != m.id ||
      confirmation->group_id != m.group_id) {
    fail("the confirmation names another target, nonce or group");
  }
  if (!m.confirmation.empty() && m.confirmation != *raw) {
    fail("the status confirmation differs from the one init answered");
  }
  auto keys = keys::DsKeyStore::OpenExisting(
      pair.dir() / "source.test" / "keys", Clock());
  if (!keys.ok()) {
    fail("source key store: " + keys.status().ToString());
  } else {
    auto key = (*keys)->SigningKeyFor(m.suite);
    if (!key.ok() ||
        !crypto::VerifyMessage((*key)->public_key(), *confirmation).ok()) {
      fail("the confirmation does not verify under the source's key");
    }
  }
  return bad;
}

std::vector<std::string> CheckAbortedAndUsable(const PortdPair& pair,
                                               const ClientMigration& m) {
  std::vector<std::string> bad;
  auto fail = [&](const std::string& what) {
    bad.push_back(m.label + ": " + what);
  };
  const std::string source_state = StateOf(pair, Side::kSource, m.id);
  const std::string target_state = StateOf(pair, Side::kTarget, m.id);
  if (source_state != "aborted") fail("source row is " + source_state);
  if (target_state != "aborted") fail("target row is " + target_state);
  auto target_ds =
      embedded_ds::EmbeddedDs::Open(pair.DatabasePath(Side::kTarget), Clock());
  if (!target_ds.ok() || (*target_ds)->LookupGroup(m.group_id).ok()) {
    fail("the group (also) lives at the target");
  }
  auto source = pair.Client(Side::kSource);
  const std::string base = "/ds/v1/groups/" + ToHex(m.group_id);
  auto g = source->Get(base.c_str());
  auto gj = g ? mimi::codec::ParseJson(g->body) : json();
  if (!g || g->status != 200 || !gj.is_object() || gj.value("frozen", true) ||
      gj.value("epoch", 0) != kChaosEpoch) {
    fail("the group is not back at the source, unfrozen at epoch 5: " +
         (g ? g->body : std::string("no answer")));
  }
  // Members carry on: the next commit is accepted and advances the epoch.
  const std::string commit = mimi::codec::DumpJson(json{
      {"commit", ToHex(SyntheticSignedCommit(m.group_info, 2, {}, m.keys[2]))},
      {"ratchet_tree", ToHex(m.ratchet_tree)},
      {"group_info",
       ToHex(SyntheticGroupInfo(m.suite, m.group_id, kChaosEpoch + 1,
                                m.ratchet_tree, 2, m.keys[2]))}});
  auto c = source->Post((base + "/commits").c_str(),
                        MemberHeaders(m.keys[2], 2, kChaosEpoch, "POST", base + "/commits",
                                      m.group_id, commit),
                        commit, "application/json");
  if (!c || c->status != 200 ||
      mimi::codec::ParseJson(c->body).value("epoch", 0) != kChaosEpoch + 1) {
    fail("a new commit was not accepted: " +
         (c ? c->body : std::string("no answer")));
  }
  auto status =
      source->Get(("/mimi-portability/v1/migrations/" + m.id).c_str());
  if (status && mimi::codec::ParseJson(status->body).contains("confirmation")) {
    fail("an aborted migration has a confirmation");
  }
  return bad;
}

std::vector<std::string> CheckIntegrity(const PortdPair& pair) {
  std::vector<std::string> bad;
  for (Side side : {Side::kSource, Side::kTarget}) {
    try {
      SQLite::Database db(pair.DatabasePath(side), SQLite::OPEN_READONLY);
      db.exec("PRAGMA busy_timeout = 5000");
      SQLite::Statement q(db, "PRAGMA integrity_check");
      std::string result;
      while (q.executeStep()) result += q.getColumn(0).getString();
      if (result != "ok")
        bad.push_back(std::string(SideName(side)) + " db: " + result);
    } catch (const std::exception& e) {
      bad.push_back(std::string(SideName(side)) + " db: " + e.what());
    }
  }
  return bad;
}

}  // namespace mimi::testing
