// The daemon's lease-owner id: host, pid and 6 random bytes, and a failing
// random source is an error rather than an id with a predictable (all-zero)
// suffix that another process could share.
#include "daemon/instance_id.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <span>
#include <string>

namespace mimi::daemon {
namespace {

TEST(InstanceIdTest, HostPidAndTwelveRandomHexDigits) {
  auto id = MakeInstanceId();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::string pid = ":" + std::to_string(getpid()) + ":";
  const size_t at = id->rfind(pid);
  ASSERT_NE(at, std::string::npos) << *id;
  const std::string suffix = id->substr(at + pid.size());
  EXPECT_EQ(suffix.size(), 12u) << *id;
  EXPECT_EQ(suffix.find_first_not_of("0123456789abcdef"), std::string::npos);
  // Two ids of one process differ only by chance of 2^-48.
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
  EXPECT_EQ(id->substr(id->size() - 13), ":010203040506");
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

}  // namespace
}  // namespace mimi::daemon
