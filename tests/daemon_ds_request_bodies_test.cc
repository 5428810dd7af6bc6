// The JSON bodies of the embedded DS's member API (daemon/ds_request_bodies.h):
// what each parser accepts reads back from its own serialization, and every
// refusal is kMalformed naming the field, never an exception.
#include "daemon/ds_request_bodies.h"

#include <gtest/gtest.h>

#include <string>

namespace mimi::daemon {
namespace {

TEST(DsRequestBodiesTest, SerializedBodiesParseBackToTheSameValue) {
  const CreateGroupBody create{{1, 2, 3}, {4, 5}, {0xab}};
  EXPECT_EQ(ParseCreateGroupBody(SerializeBody(create)).value(), create);
  const CreateGroupBody no_id{{1}, {2}, {}};
  EXPECT_EQ(ParseCreateGroupBody(SerializeBody(no_id)).value(), no_id);
  const CommitBody commit{{9}, {8, 7}, {6}};
  EXPECT_EQ(ParseCommitBody(SerializeBody(commit)).value(), commit);
  const MessageBody message{{0, 0xff}};
  EXPECT_EQ(ParseMessageBody(SerializeBody(message)).value(), message);
  // Unknown members are ignored, null is absent.
  EXPECT_EQ(ParseMessageBody(R"({"message":"00ff","x":[1]})").value(), message);
  EXPECT_EQ(ParseCreateGroupBody(
                R"({"group_info":"01","ratchet_tree":"02","group_id":null})")
                .value(),
            no_id);
}

TEST(DsRequestBodiesTest, RefusalsAreMalformedAndNameTheField) {
  const std::pair<const char*, const char*> bad[] = {
      {"", "body: "},
      {"[]", "body: "},
      {"{\"message\":\"0\"}", "message: "},
      {"{\"message\":1}", "message: expected hex string"},
      {"{\"message\":null}", "message: missing"},
  };
  for (const auto& [text, prefix] : bad) {
    Result<MessageBody> r = ParseMessageBody(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed) << text;
    EXPECT_TRUE(r.status().detail().starts_with(prefix)) << r.status().detail();
  }
  Result<CommitBody> commit =
      ParseCommitBody(R"({"commit":"00","ratchet_tree":"00"})");
  EXPECT_EQ(commit.status().code(), StatusCode::kMalformed);
  EXPECT_EQ(commit.status().detail(), "group_info: missing");
}

// The route read the optional group id hint with json::value(), which throws
// on a member that is not a string (a 500 from the handler's catch-all) and
// silently dropped one that is not hex (seen when the parsers moved here).
TEST(DsRequestBodiesTest, AGroupIdThatIsNotHexIsMalformed) {
  for (const char* id : {"5", "[]", "{}", "true", "\"zz\"", "\"abc\""}) {
    const std::string text =
        std::string(R"({"group_info":"00","ratchet_tree":"00","group_id":)") +
        id + "}";
    Result<CreateGroupBody> r = ParseCreateGroupBody(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kMalformed) << text;
    EXPECT_TRUE(r.status().detail().starts_with("group_id: "))
        << r.status().detail();
  }
}

}  // namespace
}  // namespace mimi::daemon
