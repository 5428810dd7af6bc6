// mimi-portctl keys generate|show|rotate: the operator's view of a DS's
// signing keys (coordinator/keys/ds_key_store.h). These work on the key
// directory directly; rotate while the daemon is stopped, since a running
// daemon keeps its keys in memory and rewrites the manifest itself.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "codec/json_text.h"
#include "keys/base64.h"
#include "keys/ds_key_store.h"
#include "keys/key_document_handler.h"
#include "mimi_portability/clock.h"

namespace mimi::cli {
namespace {

nlohmann::json Describe(const keys::DsPublicKey& k) {
  nlohmann::json j = {
      {"ciphersuite", k.ciphersuite},
      {"scheme", crypto::SchemeName(k.public_key.scheme())},
      {"key_id", k.key_id},
      {"public_key", keys::Base64Encode(k.public_key.encoded())},
      {"public_key_hex", ToHex(k.public_key.encoded())},
      {"created", k.created}};
  if (k.expires) j["expires"] = *k.expires;
  return j;
}

void PrintKeys(const keys::DsKeyStore& store) {
  nlohmann::json cur = nlohmann::json::array();
  for (const auto& k : store.CurrentKeys()) cur.push_back(Describe(k));
  nlohmann::json old = nlohmann::json::array();
  for (const auto& k : store.OldKeys()) old.push_back(Describe(k));
  std::cout << codec::DumpJson(
                   nlohmann::json{{"keys", cur}, {"old_keys", old}}, 2)
            << "\n";
}

}  // namespace

void RegisterKeys(CLI::App& app) {
  auto* keys_cmd = app.add_subcommand(
      "keys", "Generate, show and rotate this DS's signing keys");
  keys_cmd->require_subcommand(1);

  struct Args {
    std::string dir;
    std::vector<int> suites;
    std::string domain;
    int64_t old_key_lifetime_s = 7 * 24 * 3600;
  };
  auto args = std::make_shared<Args>();

  auto* gen = keys_cmd->add_subcommand(
      "generate",
      "Create the key directory and a key for each suite that has none");
  gen->add_option("--dir", args->dir, "key directory")->required();
  gen->add_option("--suite", args->suites,
                  "MLS ciphersuite id (1-7), repeatable")
      ->required()
      ->check(CLI::Range(1, 7));
  gen->callback([args] {
    std::vector<crypto::CipherSuiteId> suites(args->suites.begin(),
                                              args->suites.end());
    auto store = keys::DsKeyStore::Open(args->dir, suites, SystemClock::Get());
    if (!store.ok()) return ReportFailure(store.status());
    PrintKeys(**store);
  });

  auto* show = keys_cmd->add_subcommand(
      "show", "Print the keys, or with --domain the published key document");
  show->add_option("--dir", args->dir, "key directory")->required();
  show->add_option("--domain", args->domain,
                   "print the /.well-known/mimi-portability document for it");
  show->callback([args] {
    auto store = keys::DsKeyStore::OpenExisting(args->dir, SystemClock::Get());
    if (!store.ok()) return ReportFailure(store.status());
    if (args->domain.empty()) return PrintKeys(**store);
    std::cout << keys::SerializeKeyDocument(keys::BuildKeyDocument(
        args->domain, **store, SystemClock::Get().NowMillis(),
        keys::kDefaultKeyDocumentValidityMs));
  });

  auto* rotate = keys_cmd->add_subcommand(
      "rotate", "Make a fresh key current; the old one verifies until expiry");
  rotate->add_option("--dir", args->dir, "key directory")->required();
  rotate->add_option("--suite", args->suites, "MLS ciphersuite id (1-7)")
      ->required()
      ->check(CLI::Range(1, 7));
  rotate
      ->add_option("--old-key-lifetime", args->old_key_lifetime_s,
                   "seconds the old key keeps verifying (default 7 days)")
      ->check(CLI::NonNegativeNumber);
  rotate->callback([args] {
    auto store = keys::DsKeyStore::OpenExisting(args->dir, SystemClock::Get());
    if (!store.ok()) return ReportFailure(store.status());
    for (int suite : args->suites) {
      auto fresh = (*store)->Rotate(static_cast<crypto::CipherSuiteId>(suite),
                                    args->old_key_lifetime_s * 1000);
      if (!fresh.ok()) return ReportFailure(fresh.status());
    }
    PrintKeys(**store);
  });
}

}  // namespace mimi::cli
