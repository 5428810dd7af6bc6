// mimi-portctl migrate: the client side of one migration (docs/protocol.md
// §3.1, §3.2, §3.5), for operators and tests.
//
//   1. MigrationRequest to the target's /request; the MigrationResponse must
//      echo the request.
//   2. MigrationInit{response} signed with the member's leaf key, sent with
//      the leaf index and the member's tagged commit to the source's /init.
//   3. A 200 carries the MigrationConfirmation; a 202 is polled at its
//      Location until --wait runs out.
//   4. The confirmation is checked against the source's published key for
//      the suite, and must name the target, the nonce and the group.
//
// Every failure is a Status. A migration that ended badly, was not confirmed
// in time or whose answers do not verify is exit 1 (IsFailedOutcome); every
// other failure takes ExitCodeFor's code like in every subcommand: refusals
// the servers answered with 4xx and bad local input are 2, no answer (or
// 503) is 4. Single-threaded, like the CLI.
#include <httplib.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/message_signing.h"
#include "crypto/signing_key.h"
#include "keys/key_document.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/clock.h"
#include "mimi_portability/endpoints.h"
#include "mimi_portability/messages.h"

namespace mimi::cli {
namespace {

using nlohmann::json;

using endpoints::kInitPath;
using endpoints::kMediaType;
using endpoints::kRequestPath;
using endpoints::kStatusPathPrefix;
// Reasons of the local failures; server refusals keep the server's reason.
constexpr char kPeerUnreachable[] = "unreachable";
constexpr char kNotConfirmed[] = "not-confirmed";
constexpr char kMigrationFailed[] = "migration-failed";
constexpr char kUnverified[] = "unverified-answer";
constexpr auto kPollInterval = std::chrono::milliseconds(200);

struct MigrateOptions {
  std::string source_url;
  std::string target_url;
  std::string source_domain;
  std::string target_domain;
  std::string group_hex;
  uint64_t epoch = 0;
  uint16_t suite = 0;
  uint32_t leaf = 0;
  std::string leaf_key_file;
  std::string commit;
  std::string token;
  std::string token_file;
  std::string ca_file;
  int wait_seconds = 30;
  bool json = false;
};

// What the command ends with when the migration got as far as an id.
struct Outcome {
  std::string migration_id;
  std::string state;
  Bytes confirmation;  // empty unless confirmed and verified
};

// The migration did not end confirmed and verified (exit 1), as opposed to a
// request that could not be made or was refused.
bool IsFailedOutcome(const Status& status) {
  return status.reason() == kMigrationFailed ||
         status.reason() == kNotConfirmed || status.reason() == kUnverified;
}

Status Unverified(const std::string& detail) {
  return Status(StatusCode::kFailedPrecondition, kUnverified, detail);
}

// A base URL: scheme, host and optional port, no path (httplib treats a
// path as part of the host name). Returns the host, the default domain.
Result<std::string> CheckBaseUrl(const std::string& flag, std::string* url) {
  while (!url->empty() && url->back() == '/') url->pop_back();
  const bool https = url->rfind("https://", 0) == 0;
  const bool http = url->rfind("http://", 0) == 0;
  if (!https && !http) {
    return InvalidArgumentError(flag + " " + *url +
                                ": expected https://HOST[:PORT]");
  }
  const size_t host_at = url->find("://") + 3;
  if (url->find('/', host_at) != std::string::npos || host_at == url->size()) {
    return InvalidArgumentError(flag + " " + *url +
                                ": expected https://HOST[:PORT] without a path");
  }
  std::string host = url->substr(host_at);
  if (host.front() == '[') {  // [v6]:port
    const size_t close = host.find(']');
    if (close == std::string::npos) {
      return InvalidArgumentError(flag + " " + *url + ": unclosed [");
    }
    return host.substr(1, close - 1);
  }
  return host.substr(0, host.find(':'));
}

Result<std::string> ReadFile(const std::string& what, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgumentError(what + " " + path + ": is a directory");
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return InvalidArgumentError(what + ": cannot open " + path);
  std::string data((std::istreambuf_iterator<char>(f)),
                   std::istreambuf_iterator<char>());
  if (f.bad()) return InvalidArgumentError(what + ": cannot read " + path);
  return data;
}

// --commit: hex, @file (raw bytes) or - (raw bytes on stdin), as decode.
Result<Bytes> ReadCommit(const std::string& input) {
  if (input == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)),
                     std::istreambuf_iterator<char>());
    if (std::cin.bad()) return InvalidArgumentError("--commit: cannot read stdin");
    return ToBytes(data);
  }
  if (!input.empty() && input[0] == '@') {
    MIMI_ASSIGN_OR_RETURN(std::string data, ReadFile("--commit", input.substr(1)));
    return ToBytes(data);
  }
  Result<Bytes> hex = FromHex(input);
  if (!hex.ok()) return InvalidArgumentError("--commit: " + hex.status().detail());
  return hex;
}

Result<std::string> ReadToken(const MigrateOptions& o) {
  if (!o.token.empty()) return o.token;
  if (o.token_file.empty()) return std::string();
  MIMI_ASSIGN_OR_RETURN(std::string token, ReadFile("--token-file", o.token_file));
  // Token files usually end with a newline that is not part of the token.
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.pop_back();
  }
  if (token.empty()) {
    return InvalidArgumentError("--token-file " + o.token_file + " is empty");
  }
  return token;
}

std::unique_ptr<httplib::Client> MakeClient(const std::string& url,
                                            const std::string& ca_file) {
  auto client = std::make_unique<httplib::Client>(url);
  if (!ca_file.empty()) client->set_ca_cert_path(ca_file.c_str());
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(std::chrono::seconds(5));
  // The source waits up to 5 s for the migration before it answers 202.
  client->set_read_timeout(std::chrono::seconds(30));
  return client;
}

// A Status for an HTTP answer that is not the expected success: the
// server's {"error", "detail"} for 4xx (exit 2), kUnavailable for 503.
Status FromHttpAnswer(const std::string& what, const httplib::Response& r) {
  std::string reason = "http-" + std::to_string(r.status);
  std::string detail;
  json j = codec::ParseJson(r.body);
  if (j.is_object()) {
    if (j.contains("error") && j["error"].is_string()) reason = j["error"];
    if (j.contains("detail") && j["detail"].is_string()) detail = j["detail"];
    if (j.contains("moved_to") && j["moved_to"].is_string()) {
      detail += (detail.empty() ? "" : "; ") +
                std::string("moved to ") + j["moved_to"].get<std::string>();
    }
  }
  detail = what + " answered HTTP " + std::to_string(r.status) +
           (detail.empty() ? "" : ": " + detail);
  if (r.status >= 400 && r.status < 500) {
    return Status(StatusCode::kInvalidArgument, reason, detail);
  }
  if (r.status == 503) return Status(StatusCode::kUnavailable, reason, detail);
  return Status(StatusCode::kInternal, reason, detail);
}

Status NoAnswer(const std::string& what, const std::string& url,
                httplib::Error error) {
  return Status(StatusCode::kUnavailable, kPeerUnreachable,
                what + " unreachable at " + url + " (" +
                    httplib::to_string(error) + ")");
}

// Step 1.
Result<MigrationResponse> RequestMigration(const MigrateOptions& o,
                                           const MigrationRequest& request,
                                           const std::string& token) {
  auto client = MakeClient(o.target_url, o.ca_file);
  MIMI_ASSIGN_OR_RETURN(Bytes body, Encode(request));
  httplib::Headers headers = {{"MIMI-Cipher-Suite", std::to_string(o.suite)}};
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result r = client->Post(kRequestPath, headers,
                                   reinterpret_cast<const char*>(body.data()),
                                   body.size(), kMediaType);
  if (!r) return NoAnswer("the target", o.target_url, r.error());
  if (r->status != 200) return FromHttpAnswer("the target", *r);
  Result<MigrationResponse> response = Decode<MigrationResponse>(ToBytes(r->body));
  if (!response.ok()) {
    return Unverified("the target's MigrationResponse does not decode: " +
                      response.status().detail());
  }
  if (!(response->migration_request == request)) {
    return Unverified(
        "the target's MigrationResponse does not echo the request sent");
  }
  return response;
}

// The JSON status of the migration at the source, or a Status.
Result<json> PollStatus(httplib::Client& client, const MigrateOptions& o,
                        const std::string& path) {
  httplib::Result r = client.Get(path);
  if (!r) return NoAnswer("the source", o.source_url, r.error());
  if (r->status != 200) return FromHttpAnswer("the source", *r);
  json j = codec::ParseJson(r->body);
  if (!j.is_object()) return Unverified("the source's status is not JSON");
  return j;
}

// Steps 2 and 3: fills `outcome` as far as the source got; an error only
// when no usable answer came (exit codes as for any Status).
Status InitMigration(const MigrateOptions& o, const MigrationInitRequest& init,
                     Outcome* outcome) {
  auto client = MakeClient(o.source_url, o.ca_file);
  MIMI_ASSIGN_OR_RETURN(Bytes body, Encode(init));
  httplib::Result r = client->Post(kInitPath, httplib::Headers{},
                                   reinterpret_cast<const char*>(body.data()),
                                   body.size(), kMediaType);
  if (!r) return NoAnswer("the source", o.source_url, r.error());
  if (r->status == 200) {
    outcome->state = "confirmed";
    outcome->confirmation = ToBytes(r->body);
    return Status::Ok();
  }
  if (r->status != 202) return FromHttpAnswer("the source", *r);
  json accepted = codec::ParseJson(r->body);
  if (accepted.is_object() && accepted.value("state", json()).is_string()) {
    outcome->state = accepted["state"];
  }
  std::string location = r->get_header_value("Location");
  if (location.empty()) location = kStatusPathPrefix + outcome->migration_id;
  // Only a path on the source is followed: the nonce is the capability to
  // ask, so it is not handed to wherever a Location might point.
  if (location.rfind(kStatusPathPrefix, 0) != 0) {
    return Unverified("the source's 202 names an unexpected Location " + location);
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(o.wait_seconds);
  while (true) {
    MIMI_ASSIGN_OR_RETURN(json status, PollStatus(*client, o, location));
    if (status.value("state", json()).is_string()) outcome->state = status["state"];
    if (status.contains("confirmation") && status["confirmation"].is_string()) {
      Result<Bytes> c = FromHex(status["confirmation"].get<std::string>());
      if (!c.ok()) return Unverified("the source's confirmation is not hex");
      outcome->confirmation = *c;
      return Status::Ok();
    }
    if (outcome->state == "aborted" || outcome->state == "abort_requested" ||
        outcome->state == "expired") {
      std::string last_error;
      if (status.value("last_error", json()).is_string()) {
        last_error = ": " + status["last_error"].get<std::string>();
      }
      return Status(StatusCode::kFailedPrecondition, kMigrationFailed,
                    "the migration ended " + outcome->state + last_error);
    }
    if (std::chrono::steady_clock::now() + kPollInterval > deadline) {
      return Status(StatusCode::kFailedPrecondition, kNotConfirmed,
                    "not confirmed within --wait " +
                        std::to_string(o.wait_seconds) + " s (state " +
                        outcome->state + "); poll " + o.source_url + location);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Step 4: the confirmation is signed by the source under its published key
// for the suite (current, or an old key not yet expired, since the source
// may have rotated between signing and publishing), and names the target,
// the nonce and the group.
Status VerifyConfirmation(const MigrateOptions& o, const MigrationResponse& response,
                          const Bytes& confirmation_bytes) {
  Result<MigrationConfirmation> confirmation =
      Decode<MigrationConfirmation>(confirmation_bytes);
  if (!confirmation.ok()) {
    return Unverified("the MigrationConfirmation does not decode: " +
                      confirmation.status().detail());
  }
  const MigrationRequest& request = response.migration_request;
  if (confirmation->domain_name != request.target_domain_name) {
    return Unverified("the confirmation names " +
                      ToString(confirmation->domain_name) + ", not the target " +
                      o.target_domain);
  }
  if (confirmation->nonce != response.nonce) {
    return Unverified("the confirmation is for another nonce");
  }
  if (confirmation->group_id != request.group_id) {
    return Unverified("the confirmation is for another group");
  }
  auto client = MakeClient(o.source_url, o.ca_file);
  httplib::Result r = client->Get(std::string(keys::kKeyDocumentPath));
  if (!r) return NoAnswer("the source", o.source_url, r.error());
  if (r->status != 200) return FromHttpAnswer("the source's key document", *r);
  if (r->body.size() > keys::kMaxKeyDocumentBytes) {
    return Unverified("the source's key document is too large");
  }
  Result<keys::KeyDocument> doc = keys::ParseKeyDocument(r->body, o.source_domain);
  if (!doc.ok()) {
    return Unverified("the source's key document: " + doc.status().detail());
  }
  const UnixMillis now = SystemClock::Get().NowMillis();
  bool have_key = false;
  for (const auto* list : {&doc->keys, &doc->old_keys}) {
    for (const keys::PublishedKey& key : *list) {
      if (key.ciphersuite != o.suite) continue;
      if (key.expires && *key.expires < now) continue;
      have_key = true;
      if (crypto::VerifyMessage(key.public_key, *confirmation).ok()) {
        return Status::Ok();
      }
    }
  }
  return Unverified(have_key ? "the confirmation's signature does not verify "
                               "under the source's key for suite " +
                                   std::to_string(o.suite)
                             : "the source publishes no key for suite " +
                                   std::to_string(o.suite));
}

void Print(const MigrateOptions& o, const Outcome& outcome, bool confirmed) {
  if (o.json) {
    json j = {{"migration_id", outcome.migration_id},
              {"state", outcome.state},
              {"confirmation",
               confirmed ? json(ToHex(outcome.confirmation)) : json(nullptr)},
              {"target", o.target_domain}};
    std::cout << codec::DumpJson(j) << "\n";
    return;
  }
  std::cout << "migration " << outcome.migration_id << "\n"
            << "state        " << outcome.state << "\n";
  if (confirmed) {
    std::cout << "group " << o.group_hex << " now lives at " << o.target_domain
              << " (confirmation verified under " << o.source_domain
              << "'s key)\n"
              << "confirmation " << ToHex(outcome.confirmation) << "\n";
  }
}

void FailMigration(const Status& status) {
  std::cerr << "error: " << status.reason() << ": " << status.detail() << "\n";
  SetExitCode(IsFailedOutcome(status) ? kExitFailedState : ExitCodeFor(status));
}

void Run(MigrateOptions o) {
  Result<std::string> source_host = CheckBaseUrl("--source", &o.source_url);
  if (!source_host.ok()) return FailMigration(source_host.status());
  Result<std::string> target_host = CheckBaseUrl("--target", &o.target_url);
  if (!target_host.ok()) return FailMigration(target_host.status());
  if (o.source_domain.empty()) o.source_domain = *source_host;
  if (o.target_domain.empty()) o.target_domain = *target_host;
  Result<Bytes> group = FromHex(o.group_hex);
  if (!group.ok() || group->empty()) {
    return FailMigration(InvalidArgumentError("--group: expected the group id in hex"));
  }
  Result<crypto::CipherSuite> suite = crypto::LookupCipherSuite(o.suite);
  if (!suite.ok()) {
    return FailMigration(InvalidArgumentError("--suite " + std::to_string(o.suite) +
                                     ": not an MLS ciphersuite this build knows"));
  }
  Result<std::string> pem = ReadFile("--leaf-key", o.leaf_key_file);
  if (!pem.ok()) return FailMigration(pem.status());
  Result<crypto::SigningKey> leaf_key =
      crypto::SigningKey::FromPkcs8Pem(suite->signature_scheme, *pem);
  if (!leaf_key.ok()) {
    return FailMigration(InvalidArgumentError("--leaf-key " + o.leaf_key_file + ": " +
                                     leaf_key.status().detail()));
  }
  Result<Bytes> commit = ReadCommit(o.commit);
  if (!commit.ok()) return FailMigration(commit.status());
  if (commit->empty()) return FailMigration(InvalidArgumentError("--commit is empty"));
  Result<std::string> token = ReadToken(o);
  if (!token.ok()) return FailMigration(token.status());

  const MigrationRequest request{ToBytes(o.source_domain), ToBytes(o.target_domain),
                                 *group, o.epoch};
  Result<MigrationResponse> response = RequestMigration(o, request, *token);
  if (!response.ok()) return FailMigration(response.status());

  MigrationInitRequest init{{*response, {}}, o.leaf, *commit};
  if (Status s = crypto::SignMessage(*leaf_key, &init.migration_init); !s.ok()) {
    return FailMigration(Status(StatusCode::kInternal, "signing MigrationInit: " + s.ToString()));
  }
  Outcome outcome;
  outcome.migration_id = ToHex(response->nonce);
  outcome.state = "requested";
  Status s = InitMigration(o, init, &outcome);
  if (s.ok()) s = VerifyConfirmation(o, *response, outcome.confirmation);
  if (!s.ok()) {
    // Once the source has taken the init, the migration has an id worth
    // printing even though it did not (yet) end well.
    if (IsFailedOutcome(s)) Print(o, outcome, false);
    return FailMigration(s);
  }
  Print(o, outcome, true);
  SetExitCode(kExitOk);
}

}  // namespace

void RegisterMigrate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "migrate",
      "Migrate a group as one of its members: request at the target, signed "
      "init at the source, verified confirmation");
  auto o = std::make_shared<MigrateOptions>();
  cmd->add_option("--source", o->source_url, "the source DS, https://HOST[:PORT]")
      ->required();
  cmd->add_option("--target", o->target_url, "the target DS, https://HOST[:PORT]")
      ->required();
  cmd->add_option("--group", o->group_hex, "the group id in hex")->required();
  cmd->add_option("--epoch", o->epoch, "the group's current epoch")->required();
  cmd->add_option("--suite", o->suite, "the group's MLS ciphersuite (1..7)")
      ->required();
  cmd->add_option("--leaf", o->leaf, "the member's leaf index")->required();
  cmd->add_option("--leaf-key", o->leaf_key_file,
                  "the member's leaf signature key (PKCS#8 PEM)")
      ->required();
  cmd->add_option("--commit", o->commit,
                  "the commit tagged with MigrationCommitAAD{target}: hex, "
                  "@file or -")
      ->required();
  auto* token = cmd->add_option("--token", o->token, "client token at the target");
  cmd->add_option("--token-file", o->token_file, "file holding the client token")
      ->excludes(token);
  cmd->add_option("--ca", o->ca_file,
                  "PEM file of CAs to trust (default: the system store)");
  cmd->add_option("--source-domain", o->source_domain,
                  "the source's domain (default: the --source host)");
  cmd->add_option("--target-domain", o->target_domain,
                  "the target's domain (default: the --target host)");
  cmd->add_option("--wait", o->wait_seconds,
                  "seconds to wait for the confirmation after a 202 (default 30)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", o->json,
                "print {\"migration_id\",\"state\",\"confirmation\",\"target\"}");
  cmd->callback([o] { Run(*o); });
}

}  // namespace mimi::cli
