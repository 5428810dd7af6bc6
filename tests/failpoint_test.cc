#include "failpoint/failpoint.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace mimi::failpoint {
namespace {

class FailpointTest : public ::testing::Test {
 protected:
  void TearDown() override { DisarmAll(); }
};

TEST_F(FailpointTest, UnarmedIsOk) {
  for (const auto& name : Names()) EXPECT_TRUE(Hit(name).ok()) << name;
}

TEST_F(FailpointTest, AtLeastTwelveNamedPoints) {
  EXPECT_GE(Names().size(), 12u);
}

TEST_F(FailpointTest, ErrorWithCountAndSkip) {
  ASSERT_TRUE(Arm("target.before_import=error@1*2").ok());
  EXPECT_TRUE(Hit("target.before_import").ok());  // skipped
  Status s = Hit("target.before_import");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.detail(), "failpoint target.before_import");
  EXPECT_FALSE(Hit("target.before_import").ok());
  EXPECT_TRUE(Hit("target.before_import").ok());  // count used up
  EXPECT_EQ(HitCount("target.before_import"), 4);
  EXPECT_TRUE(Hit("source.after_fan_out").ok());  // others unaffected
}

TEST_F(FailpointTest, Delay) {
  ASSERT_TRUE(Arm("source.before_send_content=delay:50").ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Hit("source.before_send_content").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(50));
}

TEST_F(FailpointTest, CrashExitsWithTheFailpointCode) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: arm and hit; only _exit may end it.
    if (!Arm("source.after_persist_initiated=crash").ok()) _exit(1);
    (void)Hit("source.after_persist_initiated");
    _exit(2);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), kCrashExitCode);
}

TEST_F(FailpointTest, BadSpecsAreRefusedAndLeaveTheArmedSetAlone) {
  ASSERT_TRUE(Arm("source.after_fan_out=error").ok());
  for (auto spec : {"nonsense", "no.such.point=crash", "source.after_fan_out=explode",
                    "source.after_fan_out=delay:x", "source.after_fan_out=error*z"}) {
    EXPECT_EQ(Arm(spec).code(), StatusCode::kInvalidArgument) << spec;
  }
  EXPECT_FALSE(Hit("source.after_fan_out").ok());
}

TEST_F(FailpointTest, SpecWithSeveralItems) {
  ASSERT_TRUE(Arm(" source.after_fan_out=error ; target.after_import=error ").ok());
  EXPECT_FALSE(Hit("source.after_fan_out").ok());
  EXPECT_FALSE(Hit("target.after_import").ok());
  DisarmAll();
  EXPECT_TRUE(Hit("target.after_import").ok());
}

}  // namespace
}  // namespace mimi::failpoint
