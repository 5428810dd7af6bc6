// Real MLS clients (ts-mls 1.6.4, tests/mls/migrate_e2e.mjs) migrate a group
// between two running daemons (source.test -> target.test over HTTPS), for
// ciphersuites 1 and 2 and a migration commit sent as PublicMessage and as
// PrivateMessage. The driver checks the protocol from the client's side
// (signatures, confirmation, "moved", members reaching epoch 2 and talking
// through the target); this test then checks what both daemons stored.
//
// Skipped when node or tests/mls/node_modules/ts-mls is missing (run
// tools/setup).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "codec/json_text.h"
#include "mimi_portability/clock.h"
#include "mls/mls_message.h"
#include "testing/command.h"
#include "testing/mls_fixtures.h"
#include "testing/temp_dir.h"
#include "testing/two_daemons.h"

namespace mimi {
namespace {

using nlohmann::json;
using testing::RunCommand;
using testing::ShellQuote;
using testing::TsMlsDir;
using testing::TwoDaemons;

std::string Missing() {
  if (RunCommand("command -v node >/dev/null").exit_code != 0) {
    return "node is not installed";
  }
  if (!std::filesystem::is_directory(TsMlsDir() / "node_modules/ts-mls")) {
    return "tests/mls/node_modules/ts-mls is missing (run tools/setup)";
  }
  return "";
}

struct DriverRun {
  int exit_code = -1;
  std::string output;  // standard output
  json summary;        // its last line, parsed (discarded if not JSON)
  std::string log;     // standard error: the driver's step log
};

DriverRun RunDriver(const TwoDaemons& d, int suite, const std::string& wire,
                    const std::string& token, const std::string& extra = "") {
  testing::TempDir scratch;
  const std::string log = (scratch / "driver.log").string();
  const std::string command =
      "node " + ShellQuote((TsMlsDir() / "migrate_e2e.mjs").string()) +
      " --source https://127.0.0.1:" + std::to_string(d.source_port()) +
      " --target https://127.0.0.1:" + std::to_string(d.target_port()) +
      " --ca " + ShellQuote(d.ca_file()) + " --token " + ShellQuote(token) +
      " --source-token " + ShellQuote(d.source_client_token()) + " --suite " +
      std::to_string(suite) + " --wire " + wire + extra + " --json 2>" +
      ShellQuote(log);
  DriverRun run;
  const testing::CommandResult result = RunCommand(command);
  run.exit_code = result.exit_code;
  run.output = result.output;
  run.log = RunCommand("cat " + ShellQuote(log)).output;
  std::string last = run.output;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  const size_t nl = last.rfind('\n');
  run.summary = mimi::codec::ParseJson(
      nl == std::string::npos ? last : last.substr(nl + 1));
  return run;
}

class TsMlsMigration
    : public ::testing::TestWithParam<std::tuple<int, std::string>> {};

TEST_P(TsMlsMigration, MembersMoveTheirGroupAndKeepTalking) {
  if (std::string why = Missing(); !why.empty()) GTEST_SKIP() << why;
  const auto [suite, wire] = GetParam();

  TwoDaemons d(SystemClock::Get());
  ASSERT_TRUE(d.ok()) << d.error();
  const DriverRun run = RunDriver(d, suite, wire, d.client_token());
  ASSERT_EQ(run.exit_code, 0) << run.log << "\nstdout: " << run.output;
  const json& summary = run.summary;
  ASSERT_TRUE(summary.is_object()) << "no JSON summary: " << run.output;
  EXPECT_EQ(summary.value("ok", false), true) << mimi::codec::DumpJson(summary);
  EXPECT_EQ(summary.value("epoch", 0), 2);
  EXPECT_EQ(summary.value("suite", 0), suite);
  EXPECT_EQ(summary.value("wire", ""), wire);
  EXPECT_EQ(summary.value("source", ""), "source.test");
  EXPECT_EQ(summary.value("target", ""), "target.test");
  // One message before the move (read by two), three after (read by two each).
  EXPECT_EQ(summary.value("messages_exchanged", 0), 8);
  const std::string id = summary.value("migration_id", "");
  ASSERT_EQ(id.size(), 64u) << mimi::codec::DumpJson(summary);
  auto group = FromHex(summary.value("group_id", ""));
  ASSERT_TRUE(group.ok()) << mimi::codec::DumpJson(summary);
  const Bytes& gid = *group;

  // The migration rows: the source purged the group, the target imported it.
  auto source_row =
      d.SourceStore()->GetWithMessages(id, store::Role::kSource, store::kAllMessages);
  ASSERT_TRUE(source_row.ok()) << source_row.status().ToString();
  EXPECT_EQ(source_row->state, store::MigrationState::kPurged);
  EXPECT_EQ(source_row->ciphersuite, suite);
  EXPECT_EQ(source_row->group_id, gid);
  EXPECT_EQ(source_row->epoch, 1u);
  EXPECT_FALSE(source_row->confirmation.empty());
  auto target_row = d.TargetStore()->Get(id, store::Role::kTarget);
  ASSERT_TRUE(target_row.ok()) << target_row.status().ToString();
  EXPECT_EQ(target_row->state, store::MigrationState::kImported);
  EXPECT_EQ(target_row->content_hash, source_row->content_hash);

  // The source DS keeps only a tombstone pointing at the target.
  auto source_ds = d.SourceDs();
  auto tomb = source_ds->LookupTombstone(gid);
  ASSERT_TRUE(tomb.ok()) << tomb.status().ToString();
  EXPECT_EQ(tomb->moved_to, "target.test");
  EXPECT_EQ(tomb->confirmation, source_row->confirmation);
  EXPECT_EQ(source_ds->Details(gid).status().reason(), "moved");

  // The target DS holds the group at epoch 2 with the message carried over,
  // Bob's migration commit, then the three messages sent after the move.
  auto target_ds = d.TargetDs();
  auto details = target_ds->Details(gid);
  ASSERT_TRUE(details.ok()) << details.status().ToString();
  EXPECT_EQ(details->summary.epoch, 2u);
  EXPECT_EQ(details->summary.ciphersuite, suite);
  EXPECT_FALSE(details->summary.frozen);
  EXPECT_EQ(details->member_count, 3u);
  auto messages = target_ds->FetchMessages(gid, 0, 100);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 5u);
  const struct {
    mls::ContentType type;
    uint64_t epoch;
  } expected[] = {{mls::ContentType::kApplication, 1},
                  {mls::ContentType::kCommit, 1},
                  {mls::ContentType::kApplication, 2},
                  {mls::ContentType::kApplication, 2},
                  {mls::ContentType::kApplication, 2}};
  for (size_t i = 0; i < messages->size(); ++i) {
    SCOPED_TRACE("target message " + std::to_string(i));
    auto m = mls::DecodeMlsMessage((*messages)[i].message);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->content_type(), expected[i].type);
    EXPECT_EQ(m->epoch(), expected[i].epoch);
    EXPECT_EQ(m->group_id(), gid);
  }
  // The commit is the one the source received, tagged for the target.
  EXPECT_EQ((*messages)[1].message, source_row->commit);
  auto commit = mls::DecodeMlsMessage(source_row->commit);
  ASSERT_TRUE(commit.ok());
  EXPECT_EQ(commit->wire_format, wire == "public"
                                     ? mls::WireFormat::kPublicMessage
                                     : mls::WireFormat::kPrivateMessage);
  const Bytes aad = {11, 't', 'a', 'r', 'g', 'e', 't', '.', 't', 'e', 's', 't'};
  EXPECT_EQ(commit->authenticated_data(), aad);
}

// Members keep the fetch cursor they had at the source: the source had
// numbered an earlier epoch's commit (seq 1) and Alice's message (seq 2)
// when the group migrated at epoch 2, and the target continues that
// numbering, so a member fetching after seq 2 there gets the migration
// commit (seq 3, as at the source's fan-out) and what follows it. Before the
// target continued the numbering it gave the commit seq 2 and the driver
// failed ("found 0 commits on the target after its source cursor 2").
TEST(TsMlsMigrationCursor, MembersKeepTheirSourceCursorAtTheTarget) {
  if (std::string why = Missing(); !why.empty()) GTEST_SKIP() << why;
  TwoDaemons d(SystemClock::Get());
  ASSERT_TRUE(d.ok()) << d.error();
  const DriverRun run = RunDriver(d, 1, "private", d.client_token(), " --history");
  ASSERT_EQ(run.exit_code, 0) << run.log << "\nstdout: " << run.output;
  const json& summary = run.summary;
  ASSERT_TRUE(summary.is_object()) << "no JSON summary: " << run.output;
  EXPECT_EQ(summary.value("ok", false), true) << mimi::codec::DumpJson(summary);
  EXPECT_EQ(summary.value("epoch", 0), 3);
  EXPECT_EQ(summary.value("source_cursor", 0), 2);
  EXPECT_EQ(summary.value("commit_seq_at_target", 0), 3);
  const std::string id = summary.value("migration_id", "");
  auto gid = FromHex(summary.value("group_id", ""));
  ASSERT_TRUE(gid.ok()) << mimi::codec::DumpJson(summary);
  auto source_row =
      d.SourceStore()->GetWithMessages(id, store::Role::kSource, store::kAllMessages);
  ASSERT_TRUE(source_row.ok()) << source_row.status().ToString();
  EXPECT_EQ(source_row->epoch, 2u);

  // At the target: Alice's epoch-2 message keeps seq 2, the commit is 3, the
  // three messages sent after the move follow.
  auto messages = d.TargetDs()->FetchMessages(*gid, 0, 100);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  std::vector<uint64_t> seqs;
  for (const StoredMessage& m : *messages) seqs.push_back(m.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 3, 4, 5, 6}));
  ASSERT_GE(messages->size(), 2u);
  EXPECT_EQ((*messages)[1].message, source_row->commit);
}

// The driver fails loudly, and changes nothing, when a step is refused: here
// the target does not know the client's token.
TEST(TsMlsMigrationRefused, UnknownClientTokenStopsBeforeAnythingMoves) {
  if (std::string why = Missing(); !why.empty()) GTEST_SKIP() << why;
  TwoDaemons d(SystemClock::Get());
  ASSERT_TRUE(d.ok()) << d.error();
  const DriverRun run = RunDriver(d, 1, "public", std::string(64, '0'));
  EXPECT_EQ(run.exit_code, 1) << run.log;
  EXPECT_NE(run.log.find("FAILED: request: HTTP 403"), std::string::npos)
      << run.log;
  EXPECT_NE(run.log.find("unauthorized"), std::string::npos) << run.log;
  ASSERT_TRUE(run.summary.is_object()) << run.output;
  EXPECT_EQ(run.summary.value("ok", true), false);
  auto gid = FromHex(run.summary.value("group_id", ""));
  ASSERT_TRUE(gid.ok());
  auto rows = d.TargetStore()->ListByGroup(*gid);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  auto group = d.SourceDs()->Details(*gid);
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(group->summary.epoch, 1u);
  EXPECT_FALSE(group->summary.frozen);
}

INSTANTIATE_TEST_SUITE_P(
    SuitesAndWireFormats, TsMlsMigration,
    ::testing::Combine(::testing::Values(1, 2),
                       ::testing::Values("public", "private")),
    [](const ::testing::TestParamInfo<std::tuple<int, std::string>>& p) {
      return "Suite" + std::to_string(std::get<0>(p.param)) + "_" +
             std::get<1>(p.param);
    });

}  // namespace
}  // namespace mimi
