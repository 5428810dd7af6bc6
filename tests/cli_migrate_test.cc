// mimi-portctl migrate, run as the built binary, playing a member of a
// synthetic group against two in-process daemons (source.test and
// target.test over HTTPS with a test CA): a whole migration per suite with
// the databases checked afterwards, and the refusals and outages that must
// end in the documented exit codes without moving the group.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "crypto/signing_key.h"
#include "mimi_portability/messages.h"
#include "testing/command.h"
#include "testing/ds_member.h"
#include "testing/https_server.h"
#include "testing/json_shape.h"
#include "testing/loopback_port.h"
#include "testing/synthetic_mls.h"
#include "testing/temp_dir.h"
#include "testing/two_daemons.h"

namespace mimi {
namespace {

using nlohmann::json;
using testing::RunCommand;
using testing::ShellQuote;

constexpr char kPortctl[] = MIMI_BINARY_DIR "/tools/mimi-portctl";
constexpr uint64_t kEpoch = 5;
constexpr uint32_t kLeaf = 1;

class CliMigrateTest : public ::testing::TestWithParam<uint16_t> {
 protected:
  void SetUp() override {
    suite_ = GetParam();
    daemons_ = std::make_unique<testing::TwoDaemons>(clock_);
    ASSERT_TRUE(daemons_->ok()) << daemons_->error();
    auto cs = crypto::LookupCipherSuite(suite_);
    ASSERT_TRUE(cs.ok());
    std::vector<testing::SyntheticMember> members;
    for (const char* name : {"alice", "bob", "carol"}) {
      keys_.push_back(crypto::SigningKey::Generate(cs->signature_scheme).value());
      members.push_back({name, keys_.back().public_key().encoded()});
    }
    group_id_ = ToBytes("cli-group-" + std::to_string(suite_));
    const Bytes tree = testing::SyntheticRatchetTree(suite_, members);
    json create = {
        {"group_info",
         ToHex(testing::SyntheticGroupInfo(suite_, group_id_, kEpoch, tree, 0, keys_[0]))},
        {"ratchet_tree", ToHex(tree)}};
    auto r = daemons_->SourceClient()->Post(
        "/ds/v1/groups",
        testing::ClientTokenHeaders(daemons_->source_client_token()),
        mimi::codec::DumpJson(create), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;

    // The member's leaf key, as its MLS client would export it.
    auto pem = keys_[kLeaf].ToPkcs8Pem();
    ASSERT_TRUE(pem.ok()) << pem.status().ToString();
    leaf_key_file_ = (dir_ / "leaf.pem").string();
    std::ofstream(leaf_key_file_) << pem->view();
  }

  // The tagged commit the member made for target.test.
  std::string CommitHex() const {
    return ToHex(testing::SyntheticPublicCommit(
        group_id_, kEpoch, kLeaf, *Encode(MigrationCommitAAD{ToBytes("target.test")})));
  }

  std::string Url(uint16_t port) const {
    return "https://127.0.0.1:" + std::to_string(port);
  }

  // The command line with every option; `overrides` replace or add options
  // (a value of "" drops the option).
  testing::CommandResult Migrate(
      const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
    std::vector<std::pair<std::string, std::string>> args = {
        {"--source", Url(daemons_->source_port())},
        {"--target", Url(daemons_->target_port())},
        {"--source-domain", "source.test"},
        {"--target-domain", "target.test"},
        {"--group", ToHex(group_id_)},
        {"--epoch", std::to_string(kEpoch)},
        {"--suite", std::to_string(suite_)},
        {"--leaf", std::to_string(kLeaf)},
        {"--leaf-key", leaf_key_file_},
        {"--commit", CommitHex()},
        {"--token", daemons_->client_token()},
        {"--ca", daemons_->ca_file()},
        {"--wait", "20"},
    };
    for (const auto& [flag, value] : overrides) {
      bool replaced = false;
      for (auto& arg : args) {
        if (arg.first == flag) {
          arg.second = value;
          replaced = true;
        }
      }
      if (!replaced) args.emplace_back(flag, value);
    }
    std::string line = ShellQuote(kPortctl) + " migrate --json";
    for (const auto& [flag, value] : args) {
      if (!value.empty()) line += " " + flag + " " + ShellQuote(value);
    }
    // stderr too: refusals are printed there.
    return RunCommand(line + " 2>&1");
  }

  // The group still lives at the source, unfrozen, and nothing moved.
  void ExpectGroupStayed() {
    auto details = daemons_->SourceDs()->Details(group_id_);
    ASSERT_TRUE(details.ok()) << details.status().ToString();
    EXPECT_FALSE(details->summary.frozen);
    EXPECT_EQ(details->summary.epoch, kEpoch);
    EXPECT_FALSE(daemons_->TargetDs()->Details(group_id_).ok());
  }

  testing::TempDir dir_;
  FakeClock clock_{SystemClock::Get().NowMillis()};
  uint16_t suite_ = 1;
  std::unique_ptr<testing::TwoDaemons> daemons_;
  std::vector<crypto::SigningKey> keys_;
  Bytes group_id_;
  std::string leaf_key_file_;
};

TEST_P(CliMigrateTest, MigratesTheGroup) {
  testing::CommandResult r = Migrate();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json out = mimi::codec::ParseJson(r.output);
  ASSERT_TRUE(out.is_object()) << r.output;
  {
    std::string error;
    const auto shape = testing::DocumentedJsonShape(testing::OperationsDoc(),
                                                    "`migrate --json`", &error);
    ASSERT_TRUE(error.empty()) << error;
    EXPECT_EQ(testing::JsonShapeProblems(out, shape), std::vector<std::string>{}) << out;
  }
  const std::string id = out["migration_id"];
  EXPECT_EQ(id.size(), 64u);
  EXPECT_TRUE(out["state"] == "confirmed" || out["state"] == "purged") << out;
  EXPECT_EQ(out["target"], "target.test");
  auto confirmation =
      Decode<MigrationConfirmation>(*FromHex(out["confirmation"].get<std::string>()));
  ASSERT_TRUE(confirmation.ok()) << confirmation.status().ToString();
  EXPECT_EQ(ToString(confirmation->domain_name), "target.test");
  EXPECT_EQ(ToHex(confirmation->nonce), id);
  EXPECT_EQ(confirmation->group_id, group_id_);

  // The source row ends purged (the worker gets there after confirming);
  // the target imported the group one epoch on.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto source_state = [&] {
    return daemons_->SourceStore()->Get(id, store::Role::kSource)->state;
  };
  while (source_state() != store::MigrationState::kPurged &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(source_state(), store::MigrationState::kPurged);
  EXPECT_EQ(daemons_->TargetStore()->Get(id, store::Role::kTarget)->state,
            store::MigrationState::kImported);
  auto at_target = daemons_->TargetDs()->Details(group_id_);
  ASSERT_TRUE(at_target.ok()) << at_target.status().ToString();
  EXPECT_EQ(at_target->summary.epoch, kEpoch + 1);
}

TEST_P(CliMigrateTest, HumanOutputNamesTheNewHome) {
  // Same run without --json: the CLI's own line, not a JSON document.
  std::string line = ShellQuote(kPortctl) + " migrate" +
                     " --source " + ShellQuote(Url(daemons_->source_port())) +
                     " --target " + ShellQuote(Url(daemons_->target_port())) +
                     " --source-domain source.test --target-domain target.test" +
                     " --group " + ToHex(group_id_) + " --epoch " +
                     std::to_string(kEpoch) + " --suite " + std::to_string(suite_) +
                     " --leaf " + std::to_string(kLeaf) + " --leaf-key " +
                     ShellQuote(leaf_key_file_) + " --commit " + CommitHex() +
                     " --ca " + ShellQuote(daemons_->ca_file());
  std::ofstream(dir_ / "token") << daemons_->client_token() << "\n";
  line += " --token-file " + ShellQuote((dir_ / "token").string());
  testing::CommandResult r = RunCommand(line);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("now lives at target.test"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("confirmation "), std::string::npos) << r.output;
}

TEST_P(CliMigrateTest, AnotherLeafIsRefusedAsBadSignature) {
  // Leaf 2's key is in the tree, but the init is signed with leaf 1's.
  testing::CommandResult r = Migrate({{"--leaf", "2"}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad-signature"), std::string::npos) << r.output;
  ExpectGroupStayed();
}

TEST_P(CliMigrateTest, AWrongTokenIsUnauthorized) {
  testing::CommandResult r = Migrate({{"--token", "not-a-token"}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unauthorized"), std::string::npos) << r.output;
  ExpectGroupStayed();
}

TEST_P(CliMigrateTest, ATargetThatIsDownIsUnreachable) {
  // Nothing listens on a fresh loopback port.
  testing::CommandResult r =
      Migrate({{"--target", Url(static_cast<uint16_t>(testing::UnusedLoopbackPort()))}});
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("unreachable"), std::string::npos) << r.output;
  ExpectGroupStayed();
}

TEST_P(CliMigrateTest, BadInputIsRefusedBeforeAnyRequest) {
  // A leaf key of another scheme than the suite's.
  const auto other = GetParam() == 1 ? crypto::SignatureScheme::kEcdsaSecp256r1Sha256
                                     : crypto::SignatureScheme::kEd25519;
  auto pem = crypto::SigningKey::Generate(other).value().ToPkcs8Pem();
  ASSERT_TRUE(pem.ok());
  std::ofstream((dir_ / "other.pem").string()) << pem->view();
  testing::CommandResult r = Migrate({{"--leaf-key", (dir_ / "other.pem").string()}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--leaf-key"), std::string::npos) << r.output;

  r = Migrate({{"--commit", "zz"}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = Migrate({{"--source", "https://127.0.0.1:1/path"}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  ExpectGroupStayed();
}

INSTANTIATE_TEST_SUITE_P(Suites, CliMigrateTest, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<uint16_t>& param_info) {
                           return "Suite" + std::to_string(param_info.param);
                         });

}  // namespace
}  // namespace mimi
