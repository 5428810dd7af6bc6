// The daemon's instance id (docs/protocol.md §4 "Lease ownership"): made
// once per data directory from the host name and 6 random bytes (a failing
// random source is an error rather than an id with a predictable suffix),
// kept in <data_dir>/instance_id across restarts, overridable by the
// config, validated; and a data directory is claimed by one daemon at a
// time, since a second one would declare the first one's leases dead.
#include "daemon/instance_id.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include "testing/read_file.h"
#include "testing/temp_dir.h"

namespace mimi::daemon {
namespace {

TEST(InstanceIdTest, HostAndTwelveRandomHexDigits) {
  auto id = MakeInstanceId();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const size_t dash = id->rfind('-');
  ASSERT_NE(dash, std::string::npos) << *id;
  const std::string suffix = id->substr(dash + 1);
  EXPECT_EQ(suffix.size(), 12u) << *id;
  EXPECT_EQ(suffix.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(ValidateInstanceId(*id, "id").ok()) << *id;
  // Two ids differ only by chance of 2^-48.
  EXPECT_NE(*MakeInstanceId(), *id);
}

TEST(InstanceIdTest, UsesTheGivenSource) {
  auto id = MakeInstanceId([](std::span<uint8_t> out) {
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<uint8_t>(i + 1);
    }
    return Status::Ok();
  });
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->substr(id->size() - 13), "-010203040506");
}

TEST(InstanceIdTest, AFailingRandomSourceIsAnError) {
  auto id = MakeInstanceId([](std::span<uint8_t>) {
    return InternalError("DRBG not seeded");
  });
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kInternal);
  EXPECT_EQ(id.status().detail(),
            "instance id: no random bytes: DRBG not seeded");
}

TEST(InstanceIdTest, ValidIdsAreShortAndCarryNoSeparator) {
  for (const std::string& good :
       {std::string("a"), std::string("web-1.example_2"), std::string(64, 'x')}) {
    EXPECT_TRUE(ValidateInstanceId(good, "id").ok()) << good;
  }
  for (const std::string& bad :
       {std::string(), std::string(65, 'x'), std::string("a/b"),
        std::string("a#1"), std::string("a b"), std::string("caf\xc3\xa9")}) {
    Status s = ValidateInstanceId(bad, "config: instance.id");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.detail().rfind("config: instance.id: ", 0), 0u) << s.detail();
  }
}

TEST(InstanceClaimTest, TheStoredIdIsStableAndOneDaemonHoldsTheDirectory) {
  testing::TempDir dir;
  const std::string file = dir.File(kInstanceIdFile);
  std::string first_id;
  {
    auto first = InstanceClaim::Acquire(dir.path().string(), "");
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    first_id = first->id();
    EXPECT_EQ(testing::ReadTextFile(file), first_id + "\n");
    EXPECT_EQ(std::filesystem::status(file).permissions() &
                  std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto second = InstanceClaim::Acquire(dir.path().string(), "");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(second.status().detail().find("another mimi-portd"),
              std::string::npos);
    // Moving the claim keeps the lock.
    InstanceClaim moved = std::move(*first);
    EXPECT_FALSE(InstanceClaim::Acquire(dir.path().string(), "").ok());
  }
  // Released with the claim; a restart is the same instance.
  auto again = InstanceClaim::Acquire(dir.path().string(), "");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id(), first_id);
}

TEST(InstanceClaimTest, AConfiguredIdWinsAndABadOneChangesNothing) {
  testing::TempDir dir;
  auto bad = InstanceClaim::Acquire(dir.path().string(), "no/slash");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.File(kInstanceIdFile)))
      << "refused before anything is written";
  auto configured = InstanceClaim::Acquire(dir.path().string(), "node-a");
  ASSERT_TRUE(configured.ok()) << configured.status().ToString();
  EXPECT_EQ(configured->id(), "node-a");
}

TEST(InstanceClaimTest, AStoredIdThatIsNotValidIsRefused) {
  testing::TempDir dir;
  const std::string file = dir.File(kInstanceIdFile);
  std::ofstream(file) << "two words\n";
  auto claim = InstanceClaim::Acquire(dir.path().string(), "");
  ASSERT_FALSE(claim.ok());
  EXPECT_EQ(claim.status().code(), StatusCode::kMalformed);
  EXPECT_EQ(testing::ReadTextFile(file), "two words\n") << "left as it was";
}

}  // namespace
}  // namespace mimi::daemon
