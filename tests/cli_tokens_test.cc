// mimi-portctl tokens issue|list|revoke, run as the operator would, against
// a ClientTokens that stays loaded the whole time (a running daemon's).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "codec/json_text.h"
#include "crypto/hash.h"
#include "protocol/client_tokens.h"
#include "testing/command.h"
#include "testing/json_shape.h"
#include "testing/temp_dir.h"

namespace mimi::protocol {
namespace {

using ::mimi::testing::RunCommand;
using ::mimi::testing::ShellQuote;
using nlohmann::json;

class CliTokensTest : public ::testing::Test {
 protected:
  ::mimi::testing::CommandResult Portctl(const std::string& args) {
    return RunCommand(
        std::string(MIMI_BINARY_DIR "/tools/mimi-portctl tokens ") + args +
        " --data-dir " + ShellQuote(dir_.path().string()) + " 2>/dev/null");
  }
  std::string Issue(const std::string& args) {
    auto r = Portctl("issue " + args);
    EXPECT_EQ(r.exit_code, 0) << args;
    std::string token = r.output;
    while (!token.empty() && token.back() == '\n') token.pop_back();
    EXPECT_EQ(token.size(), 64u) << r.output;
    return token;
  }

  ::mimi::testing::TempDir dir_;
};

TEST_F(CliTokensTest, IssueListRevoke) {
  ClientTokens daemon(dir_ / "client_tokens");  // the system clock
  const std::string alice = Issue("alice --expires-in 30d");
  const std::string bob = Issue("bob --expires-at 2999-01-31T12:00:00Z");
  const std::string carol = Issue("carol");
  EXPECT_EQ(*daemon.Check("Bearer " + alice), "alice");
  EXPECT_EQ(*daemon.Check("Bearer " + bob), "bob");
  EXPECT_EQ(*daemon.Check("Bearer " + carol), "carol");

  auto listed = Portctl("list --json");
  ASSERT_EQ(listed.exit_code, 0);
  // Never a secret, nor the hash that stands for it.
  for (const std::string& t : {alice, bob, carol}) {
    EXPECT_EQ(listed.output.find(t), std::string::npos);
    auto h = crypto::Hash(crypto::HashAlgorithm::kSha256, ToBytes(t));
    EXPECT_EQ(listed.output.find(ToHex(*h)), std::string::npos);
  }
  const json list = mimi::codec::ParseJson(listed.output);
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 3u);
  // Exactly the documented fields (docs/operations.md, "JSON output").
  std::string error;
  const auto shape = ::mimi::testing::DocumentedJsonShape(
      ::mimi::testing::OperationsDoc(), "`tokens list --json`", &error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(::mimi::testing::JsonShapeProblems(list, shape),
            std::vector<std::string>{})
      << mimi::codec::DumpJson(list, 2);
  std::vector<std::string> names;
  for (const json& t : list) {
    names.push_back(t.at("name").get<std::string>());
    EXPECT_TRUE(t["created_ms"].is_number_integer());
    EXPECT_EQ(t["expired"], false);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(list[0]["expires_ms"].get<int64_t>() - list[0]["created_ms"].get<int64_t>(),
            30LL * 86400 * 1000);
  EXPECT_EQ(list[1]["expires_ms"], 32474779200000LL);  // 2999-01-31T12:00:00Z
  EXPECT_TRUE(list[2]["expires_ms"].is_null());

  auto human = Portctl("list");
  ASSERT_EQ(human.exit_code, 0);
  EXPECT_NE(human.output.find("2999-01-31T12:00:00Z"), std::string::npos) << human.output;
  EXPECT_NE(human.output.find("never"), std::string::npos) << human.output;

  // Revoked: the loaded instance refuses it at once (no restart).
  auto revoked = Portctl("revoke alice");
  EXPECT_EQ(revoked.exit_code, 0);
  EXPECT_EQ(revoked.output, "revoked 1 token of alice\n");
  EXPECT_EQ(daemon.Check("Bearer " + alice).status().reason(), "unauthorized");
  EXPECT_EQ(*daemon.Check("Bearer " + bob), "bob");
  EXPECT_EQ(mimi::codec::ParseJson(Portctl("list --json").output).size(), 2u);
  EXPECT_EQ(Portctl("revoke alice").exit_code, 3);  // no such token
}

TEST_F(CliTokensTest, BadExpiriesAreRefusedAndWriteNothing) {
  for (const char* bad : {"--expires-in 0d", "--expires-in 30", "--expires-in 5y",
                          "--expires-in d", "--expires-in 99999999d",
                          "--expires-at 2020-01-01",  // in the past
                          "--expires-at 2999-02-30", "--expires-at 2999-01-01T00:00:00",
                          "--expires-at tomorrow"}) {
    EXPECT_EQ(Portctl(std::string("issue dave ") + bad).exit_code, 2) << bad;
  }
  EXPECT_EQ(Portctl("issue 'two words'").exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "client_tokens"));
  auto empty = Portctl("list --json");
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_EQ(mimi::codec::ParseJson(empty.output), json::array());
}

}  // namespace
}  // namespace mimi::protocol
