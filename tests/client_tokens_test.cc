#include "protocol/client_tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "testing/read_file.h"
#include "testing/temp_dir.h"

namespace mimi::protocol {
namespace {

using ::mimi::testing::ReadTextFile;

class ClientTokensTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::filesystem::path file_ = dir_ / "client_tokens";
  FakeClock clock_;
};

TEST_F(ClientTokensTest, IssuedTokensAreAcceptedUntilTheyExpire) {
  ClientTokens tokens(file_, clock_);
  auto forever = ClientTokens::Issue(file_, "alice", std::nullopt, clock_);
  auto brief = ClientTokens::Issue(file_, "bob", clock_.NowMillis() + 60'000, clock_);
  ASSERT_TRUE(forever.ok() && brief.ok());
  EXPECT_EQ(*tokens.Check("Bearer " + *forever), "alice");
  EXPECT_EQ(*tokens.Check("Bearer " + *brief), "bob");

  clock_.Advance(59'999);
  EXPECT_TRUE(tokens.Check("Bearer " + *brief).ok());
  clock_.Advance(1);  // expiry is exclusive: at expires_ms it is over
  auto expired = tokens.Check("Bearer " + *brief);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(expired.status().reason(), "unauthorized");
  EXPECT_NE(expired.status().detail().find("bob"), std::string::npos);
  EXPECT_NE(expired.status().detail().find("expired"), std::string::npos);
  EXPECT_EQ(*tokens.Check("Bearer " + *forever), "alice");

  EXPECT_EQ(tokens.Check("Bearer " + std::string(64, '0')).status().reason(),
            "unauthorized");
  EXPECT_EQ(tokens.Check(*forever).status().reason(), "unauthorized");  // no Bearer
}

TEST_F(ClientTokensTest, AnExpiryInThePastOrABadNameIsRefusedAndWritesNothing) {
  EXPECT_EQ(ClientTokens::Issue(file_, "a", clock_.NowMillis(), clock_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ClientTokens::Issue(file_, "two words", std::nullopt, clock_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(file_));
}

// A running daemon's ClientTokens sees a revocation at its next check, also
// when the file is replaced within one tick of the file system's clock (the
// inode and size change with it).
TEST_F(ClientTokensTest, RevocationTakesEffectWithoutARestart) {
  ClientTokens tokens(file_, clock_);
  auto a1 = ClientTokens::Issue(file_, "alice", std::nullopt, clock_);
  auto a2 = ClientTokens::Issue(file_, "alice", std::nullopt, clock_);
  auto b = ClientTokens::Issue(file_, "bob", std::nullopt, clock_);
  ASSERT_TRUE(a1.ok() && a2.ok() && b.ok());
  ASSERT_TRUE(tokens.Check("Bearer " + *a1).ok());  // loaded

  auto removed = ClientTokens::Revoke(file_, "alice");
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(tokens.Check("Bearer " + *a1).status().reason(), "unauthorized");
  EXPECT_EQ(tokens.Check("Bearer " + *a2).status().reason(), "unauthorized");
  EXPECT_EQ(*tokens.Check("Bearer " + *b), "bob");
  EXPECT_EQ(ClientTokens::Revoke(file_, "alice").status().code(), StatusCode::kNotFound);

  struct stat st {};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(file_.string() + ".tmp"));

  // Issuing is seen as well (the file grew).
  auto c = ClientTokens::Issue(file_, "carol", std::nullopt, clock_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*tokens.Check("Bearer " + *c), "carol");
}

// Files written before tokens had dates ("NAME HASH") still load: such a
// token never expires; `list` shows it without a creation date. Comments and
// unreadable lines survive a revocation untouched.
TEST_F(ClientTokensTest, OldFilesStillLoadAndListShowsNoSecret) {
  ClientTokens tokens(file_, clock_);
  // "Bearer legacy": the hash of the token "legacy".
  const std::string legacy_hash =
      "c49fea7425fa7f8699897a97c159c6690267d9003bb78c53fafa8fc15c325d84";
  {
    std::ofstream f(file_);
    f << "# issued by an old mimi-portctl\n"
      << "old " << legacy_hash << "\n";
  }
  auto fresh = ClientTokens::Issue(file_, "new", clock_.NowMillis() + 1000, clock_);
  ASSERT_TRUE(fresh.ok());
  auto list = ClientTokens::List(file_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], (ClientTokenInfo{"old", std::nullopt, std::nullopt}));
  EXPECT_EQ((*list)[1], (ClientTokenInfo{"new", clock_.NowMillis(),
                                         clock_.NowMillis() + 1000}));
  EXPECT_EQ(*tokens.Check("Bearer " + *fresh), "new");
  EXPECT_EQ(*tokens.Check("Bearer legacy"), "old");
  clock_.Advance(10LL * 365 * 86400 * 1000);  // an old line never expires
  EXPECT_EQ(tokens.Check("Bearer " + *fresh).status().reason(), "unauthorized");
  EXPECT_EQ(*tokens.Check("Bearer legacy"), "old");

  ASSERT_TRUE(ClientTokens::Revoke(file_, "new").ok());
  EXPECT_EQ(ReadTextFile(file_),
            "# issued by an old mimi-portctl\nold " + legacy_hash + "\n");
  EXPECT_EQ(ClientTokens::List(dir_ / "none")->size(), 0u);
}

// An expiry that does not parse is not honoured as "never".
TEST_F(ClientTokensTest, ALineWithAnUnreadableExpiryIsNotHonoured) {
  auto t = ClientTokens::Issue(file_, "alice", std::nullopt, clock_);
  ASSERT_TRUE(t.ok());
  std::string text = ReadTextFile(file_);
  text.insert(text.size() - 1, " expires=soon");
  std::ofstream(file_) << text;
  ClientTokens tokens(file_, clock_);
  EXPECT_EQ(tokens.Check("Bearer " + *t).status().reason(), "unauthorized");
}

}  // namespace
}  // namespace mimi::protocol
