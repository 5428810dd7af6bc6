// mimi-portctl keys generate|show|rotate, run as the operator would.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "codec/json_text.h"
#include "keys/key_document.h"
#include "testing/command.h"
#include "testing/json_shape.h"
#include "testing/temp_dir.h"

namespace mimi::keys {
namespace {

using ::mimi::testing::RunCommand;
using ::mimi::testing::ShellQuote;

std::string Portctl(const std::string& args) {
  return std::string(MIMI_BINARY_DIR "/tools/mimi-portctl ") + args;
}

TEST(KeysCliTest, GenerateShowRotate) {
  ::mimi::testing::TempDir tmp;
  const std::string dir = ShellQuote((tmp / "keys").string());
  auto gen = RunCommand(
      Portctl("keys generate --dir " + dir + " --suite 1 --suite 7"));
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  auto generated = mimi::codec::ParseJson(gen.output);
  ASSERT_EQ(generated["keys"].size(), 2u);
  EXPECT_EQ(generated["keys"][1]["scheme"], "ecdsa_secp384r1_sha384");

  // generate again is a no-op that shows the same keys.
  auto again = RunCommand(
      Portctl("keys generate --dir " + dir + " --suite 1 --suite 7"));
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_EQ(mimi::codec::ParseJson(again.output)["keys"], generated["keys"]);

  auto rot = RunCommand(Portctl("keys rotate --dir " + dir +
                                " --suite 7 --old-key-lifetime 3600"));
  ASSERT_EQ(rot.exit_code, 0) << rot.output;
  auto rotated = mimi::codec::ParseJson(rot.output);
  EXPECT_EQ(rotated["keys"][0], generated["keys"][0]);
  EXPECT_NE(rotated["keys"][1]["key_id"], generated["keys"][1]["key_id"]);
  ASSERT_EQ(rotated["old_keys"].size(), 1u);
  EXPECT_EQ(rotated["old_keys"][0]["key_id"], generated["keys"][1]["key_id"]);

  // What generate and rotate print is the shape docs/operations.md gives.
  std::string error;
  const auto shape = ::mimi::testing::DocumentedJsonShape(
      ::mimi::testing::OperationsDoc(), "`keys generate|show|rotate`", &error);
  ASSERT_TRUE(error.empty()) << error;
  for (const auto& out : {generated, rotated}) {
    EXPECT_EQ(::mimi::testing::JsonShapeProblems(out, shape),
              std::vector<std::string>{})
        << mimi::codec::DumpJson(out, 2);
  }

  // show --domain prints a document that our own parser accepts.
  auto show =
      RunCommand(Portctl("keys show --dir " + dir + " --domain ds.example"));
  ASSERT_EQ(show.exit_code, 0) << show.output;
  auto doc = ParseKeyDocument(show.output, "ds.example");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->keys.size(), 2u);
  EXPECT_EQ(doc->old_keys.size(), 1u);
}

TEST(KeysCliTest, ErrorsHaveTheirExitCodes) {
  ::mimi::testing::TempDir tmp;
  EXPECT_EQ(
      RunCommand(Portctl("keys show --dir " +
                         ShellQuote((tmp / "none").string()) + " 2>/dev/null"))
          .exit_code,
      3);
  EXPECT_NE(RunCommand(Portctl("keys generate --dir " +
                               ShellQuote((tmp / "k").string()) +
                               " --suite 9 2>/dev/null"))
                .exit_code,
            0);
}

}  // namespace
}  // namespace mimi::keys
