// ProtocolOptionsFromConfig: every protocol setting of a loaded config
// reaches the protocol's options, the policies become their enums, and an
// unknown policy (a Config built without validation) is refused with the
// same error config loading gives it.
#include <gtest/gtest.h>

#include "daemon/protocol_options.h"

namespace mimi::daemon {
namespace {

using protocol::SourcePolicy;
using protocol::TargetPolicy;

constexpr std::string_view kBase = R"(
domain = "source.test"
data_dir = "/tmp/x"
ciphersuites = [1, 3]
[tls]
insecure_plain_http = true
)";

// kBase followed by `more`. Built by append: GCC 12 at -O1 (CI) reports a
// false -Warray-bounds on std::string(kBase) + "..." once inlined.
std::string WithBase(std::string_view more) {
  std::string text(kBase);
  text.append(more);
  return text;
}

TEST(ProtocolOptionsTest, EverySettingReachesTheOptions) {
  const std::string text = WithBase(R"(
[policy]
target = "any"
allow_peers = ["a.test", "b.test"]
deny_peers = ["c.test"]
group_cooldown_seconds = 30
response_ttl_seconds = 90
[recovery]
scan_interval_ms = 250
backoff_initial_ms = 50
backoff_max_ms = 7000
max_attempts = 9
lease_ms = 4000
auto_abort_after_seconds = 3600
)");
  auto config = ParseConfig(text, {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto o = ProtocolOptionsFromConfig(*config);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->source_policy, SourcePolicy::kMember);
  EXPECT_EQ(o->target_policy, TargetPolicy::kAny);
  EXPECT_EQ(o->allow_peers, (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_EQ(o->deny_peers, (std::vector<std::string>{"c.test"}));
  EXPECT_EQ(o->group_cooldown_seconds, 30);
  EXPECT_EQ(o->response_ttl_seconds, 90);
  EXPECT_EQ(o->ciphersuites, (std::vector<uint16_t>{1, 3}));
  EXPECT_EQ(o->recovery.scan_interval_ms, 250);
  EXPECT_EQ(o->recovery.backoff.initial_ms, 50);
  EXPECT_EQ(o->recovery.backoff.max_ms, 7000);
  EXPECT_EQ(o->recovery.max_attempts, 9);
  EXPECT_EQ(o->recovery.lease_ms, 4000);
  EXPECT_EQ(o->recovery.auto_abort_after_seconds, 3600);
}

TEST(ProtocolOptionsTest, DefaultsMatchTheConfigsDefaults) {
  auto config = ParseConfig(kBase, {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto o = ProtocolOptionsFromConfig(*config);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->target_policy, TargetPolicy::kClientToken);
  const Config& c = *config;
  EXPECT_EQ(o->response_ttl_seconds, c.policy.response_ttl_seconds);
  EXPECT_EQ(o->recovery.backoff.initial_ms, c.recovery.backoff_initial_ms);
  EXPECT_EQ(o->recovery.backoff.max_ms, c.recovery.backoff_max_ms);
  EXPECT_EQ(o->recovery.max_attempts, c.recovery.max_attempts);
  EXPECT_EQ(o->recovery.lease_ms, c.recovery.lease_ms);
  EXPECT_EQ(o->recovery.scan_interval_ms, c.recovery.scan_interval_ms);
  // A ProtocolOptions built in code (tests) starts where the config does.
  const protocol::ProtocolOptions plain;
  EXPECT_EQ(plain.target_policy, o->target_policy);
  EXPECT_EQ(plain.ciphersuites, Config().ciphersuites);
  EXPECT_EQ(plain.response_ttl_seconds, o->response_ttl_seconds);
  EXPECT_EQ(plain.recovery.backoff.initial_ms, o->recovery.backoff.initial_ms);
  EXPECT_EQ(plain.recovery.backoff.max_ms, o->recovery.backoff.max_ms);
  EXPECT_EQ(plain.recovery.max_attempts, o->recovery.max_attempts);
  EXPECT_EQ(plain.recovery.lease_ms, o->recovery.lease_ms);
  EXPECT_EQ(plain.recovery.scan_interval_ms, o->recovery.scan_interval_ms);
}

TEST(ProtocolOptionsTest, PolicySpellings) {
  EXPECT_EQ(*ParseTargetPolicy("client-token"), TargetPolicy::kClientToken);
  EXPECT_EQ(*ParseTargetPolicy("any"), TargetPolicy::kAny);
  EXPECT_EQ(*ParseSourcePolicy("member"), SourcePolicy::kMember);
  EXPECT_FALSE(ParseTargetPolicy("Any").ok());
  EXPECT_FALSE(ParseSourcePolicy("anyone").ok());
}

TEST(ProtocolOptionsTest, UnknownPolicyIsRefusedAsAtConfigLoad) {
  const std::string text = WithBase("[policy]\ntarget = \"nobody\"\n");
  auto loaded = ParseConfig(text, {});
  ASSERT_FALSE(loaded.ok());

  Config unvalidated;
  unvalidated.policy.target_policy = "nobody";
  auto o = ProtocolOptionsFromConfig(unvalidated);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status().detail(), loaded.status().detail());
  EXPECT_NE(o.status().detail().find("policy.target"), std::string::npos);

  unvalidated = Config();
  unvalidated.policy.source_policy = "anyone";
  EXPECT_EQ(ProtocolOptionsFromConfig(unvalidated).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mimi::daemon
