// The MLSMessage framing reader against real ts-mls output.
//
// Fixtures come from tests/mls/make_fixtures.mjs. The directory is
// $MIMI_MLS_FIXTURES when set (the `live` ctest entry points it at freshly
// generated output), else the committed tests/data/mls.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "codec/json_text.h"
#include "codec/writer.h"
#include "mimi_portability/messages.h"
#include "mls/mls_json.h"
#include "mls/mls_message.h"
#include "testing/mls_fixtures.h"

namespace mimi::mls {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

json Manifest() {
  return mimi::codec::ParseJson(testing::ReadMlsFixtureText("manifest.json"));
}

// The fixtures a DS must be able to frame: public and private group messages.
std::vector<std::string> GroupMessageFixtures() {
  std::vector<std::string> names;
  const json manifest = Manifest();
  for (const auto& [name, meta] : manifest["fixtures"].items()) {
    const std::string wf = meta.value("wire_format", "");
    if (wf == "mls_public_message" || wf == "mls_private_message") names.push_back(name);
  }
  return names;
}

TEST(MlsFramingTest, ManifestListsEveryKindForBothSuites) {
  const json manifest = Manifest();
  for (int suite : {1, 2}) {
    for (const char* kind : {"commit_public", "commit_private", "application", "proposal",
                             "welcome", "key_package"}) {
      const std::string name = std::string(kind) + "_suite" + std::to_string(suite) + ".hex";
      EXPECT_TRUE(manifest["fixtures"].contains(name)) << name;
    }
  }
  EXPECT_EQ(GroupMessageFixtures().size(), 8u);
}

TEST(MlsFramingTest, EveryFixtureParsesWithTheManifestFields) {
  const json manifest = Manifest();
  for (const std::string& name : GroupMessageFixtures()) {
    SCOPED_TRACE(name);
    const json& want = manifest["fixtures"][name];
    auto msg = DecodeMlsMessage(testing::ReadMlsHexFixture(name));
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    EXPECT_EQ(msg->version, kProtocolVersionMls10);
    EXPECT_EQ(WireFormatName(static_cast<uint16_t>(msg->wire_format)),
              want["wire_format"].get<std::string>());
    EXPECT_EQ(ToHex(msg->group_id()), want["group_id"].get<std::string>());
    EXPECT_EQ(msg->epoch(), want["epoch"].get<uint64_t>());
    EXPECT_EQ(ContentTypeName(msg->content_type()), want["content_type"].get<std::string>());
    EXPECT_EQ(ToHex(msg->authenticated_data()), want["authenticated_data"].get<std::string>());
    if (want["sender_leaf_index"].is_null()) {
      EXPECT_FALSE(msg->sender_leaf_index().has_value());
    } else {
      ASSERT_TRUE(msg->sender_leaf_index().has_value());
      EXPECT_EQ(*msg->sender_leaf_index(), want["sender_leaf_index"].get<uint32_t>());
    }
  }
}

TEST(MlsFramingTest, CommitAadIsAMigrationCommitAadNamingTheTarget) {
  for (int suite : {1, 2}) {
    for (const char* kind : {"public", "private"}) {
      const std::string name =
          std::string("commit_") + kind + "_suite" + std::to_string(suite) + ".hex";
      SCOPED_TRACE(name);
      auto msg = DecodeMlsMessage(testing::ReadMlsHexFixture(name));
      ASSERT_TRUE(msg.ok()) << msg.status().ToString();
      ASSERT_EQ(msg->content_type(), ContentType::kCommit);
      auto aad = Decode<MigrationCommitAAD>(msg->authenticated_data());
      ASSERT_TRUE(aad.ok()) << aad.status().ToString();
      EXPECT_EQ(ToString(aad->target_ds_domain), "target.test");
    }
  }
}

TEST(MlsFramingTest, PublicCommitIsParsedWhole) {
  const json manifest = Manifest();
  for (int suite : {1, 2}) {
    SCOPED_TRACE(suite);
    const Bytes raw = testing::ReadMlsHexFixture("commit_public_suite" + std::to_string(suite) + ".hex");
    auto msg = DecodeMlsMessage(raw);
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    const PublicMessage& pub = *msg->public_message;
    EXPECT_EQ(pub.sender.type, SenderType::kMember);
    // An empty commit must carry a path; its leaf is the committer's, whose
    // signature key the manifest records from the ratchet tree.
    ASSERT_TRUE(pub.commit.has_value());
    EXPECT_TRUE(pub.commit->proposals.empty());
    ASSERT_TRUE(pub.commit->path.has_value());
    const LeafNode& leaf = pub.commit->path->leaf_node;
    EXPECT_EQ(leaf.source, LeafNodeSource::kCommit);
    EXPECT_EQ(leaf.credential.type, kCredentialBasic);
    EXPECT_EQ(ToString(leaf.credential.identity), "bob");
    const json& bob = manifest["suites"][suite - 1]["members"][1];
    EXPECT_EQ(ToHex(leaf.signature_key), bob["signature_public_key"].get<std::string>());
    EXPECT_EQ(pub.commit->path->nodes.size(), 2u) << "3 leaves: a path of 2 parents";
    // SHA-256 suites: 32-byte MACs. Ed25519 signatures are 64 bytes; ECDSA
    // DER signatures start with a SEQUENCE.
    EXPECT_EQ(pub.confirmation_tag.size(), 32u);
    EXPECT_EQ(pub.membership_tag.size(), 32u);
    if (suite == 1) {
      EXPECT_EQ(pub.signature.size(), 64u);
    } else {
      EXPECT_EQ(pub.signature.at(0), 0x30);
    }
    // The FramedContent bytes sit right after version and wire_format.
    ASSERT_GT(raw.size(), pub.framed_content.size() + 4);
    EXPECT_TRUE(std::equal(pub.framed_content.begin(), pub.framed_content.end(),
                           raw.begin() + 4));
  }
}

TEST(MlsFramingTest, ProposalAndApplicationAreWhatTheyClaim) {
  for (int suite : {1, 2}) {
    SCOPED_TRACE(suite);
    auto proposal = DecodeMlsMessage(testing::ReadMlsHexFixture("proposal_suite" + std::to_string(suite) + ".hex"));
    ASSERT_TRUE(proposal.ok()) << proposal.status().ToString();
    ASSERT_TRUE(proposal->public_message->proposal.has_value());
    EXPECT_EQ(proposal->public_message->proposal->type, ProposalType::kRemove);
    EXPECT_EQ(proposal->public_message->proposal->removed, 2u);
    EXPECT_TRUE(proposal->public_message->confirmation_tag.empty());

    auto app = DecodeMlsMessage(testing::ReadMlsHexFixture("application_suite" + std::to_string(suite) + ".hex"));
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    EXPECT_EQ(app->wire_format, WireFormat::kPrivateMessage);
    EXPECT_EQ(app->content_type(), ContentType::kApplication);
    EXPECT_FALSE(app->private_message->encrypted_sender_data.empty());
    EXPECT_FALSE(app->private_message->ciphertext.empty());
  }
}

TEST(MlsFramingTest, EveryTruncationIsRejected) {
  for (const std::string& name : GroupMessageFixtures()) {
    SCOPED_TRACE(name);
    const Bytes raw = testing::ReadMlsHexFixture(name);
    ASSERT_FALSE(raw.empty());
    for (size_t n = 0; n < raw.size(); ++n) {
      auto msg = DecodeMlsMessage(ByteSpan(raw).first(n));
      ASSERT_FALSE(msg.ok()) << "prefix of " << n << " bytes parsed";
      ASSERT_EQ(msg.status().code(), StatusCode::kMalformed)
          << n << ": " << msg.status().ToString();
      ASSERT_THAT(msg.status().detail(), HasSubstr("MLSMessage.")) << n;
    }
  }
}

TEST(MlsFramingTest, TrailingBytesAreRejected) {
  for (const std::string& name : GroupMessageFixtures()) {
    SCOPED_TRACE(name);
    Bytes raw = testing::ReadMlsHexFixture(name);
    raw.push_back(0x00);
    auto msg = DecodeMlsMessage(raw);
    ASSERT_FALSE(msg.ok());
    EXPECT_EQ(msg.status().detail(), "MLSMessage: 1 trailing bytes");
  }
}

TEST(MlsFramingTest, ErrorsNameTheField) {
  const Bytes raw = testing::ReadMlsHexFixture("commit_public_suite1.hex");
  // version(2) wire_format(2) group_id<V> then the 8-byte epoch.
  ASSERT_LT(raw[4], 0x40) << "group id length fits one varint byte";
  const size_t epoch_at = 4 + 1 + raw[4];
  auto msg = DecodeMlsMessage(ByteSpan(raw).first(epoch_at + 3));
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.status().detail(), "MLSMessage.public_message.content.epoch: truncated");

  Bytes bad_sender = raw;
  bad_sender[epoch_at + 8] = 9;
  msg = DecodeMlsMessage(bad_sender);
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.status().code(), StatusCode::kMalformed);
  EXPECT_THAT(msg.status().detail(),
              HasSubstr("MLSMessage.public_message.content.sender.sender_type"));
}

TEST(MlsFramingTest, PrivateMessageHeaderOrder) {
  Bytes raw = testing::ReadMlsHexFixture("commit_private_suite1.hex");
  ASSERT_LT(raw[4], 0x40);
  const size_t content_type_at = 4 + 1 + raw[4] + 8;
  EXPECT_EQ(raw[content_type_at], 3) << "commit, before authenticated_data";
  raw[content_type_at] = 0;
  auto msg = DecodeMlsMessage(raw);
  ASSERT_FALSE(msg.ok());
  EXPECT_THAT(msg.status().detail(),
              HasSubstr("MLSMessage.private_message.content_type: invalid content type 0"));
}

TEST(MlsFramingTest, OtherWireFormatsAreUnsupportedNotMisread) {
  for (int suite : {1, 2}) {
    for (const auto& [file, wire] : {std::pair{"welcome", "mls_welcome"},
                                     std::pair{"key_package", "mls_key_package"}}) {
      const std::string name = std::string(file) + "_suite" + std::to_string(suite) + ".hex";
      SCOPED_TRACE(name);
      auto msg = DecodeMlsMessage(testing::ReadMlsHexFixture(name));
      ASSERT_FALSE(msg.ok());
      EXPECT_EQ(msg.status().code(), StatusCode::kUnsupported);
      EXPECT_THAT(msg.status().detail(), HasSubstr(wire));
      EXPECT_THAT(msg.status().detail(), HasSubstr("MLSMessage.wire_format"));
    }
  }
  auto group_info = DecodeMlsMessage(FromHex("00010004").value());
  ASSERT_FALSE(group_info.ok());
  EXPECT_EQ(group_info.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(group_info.status().detail(), HasSubstr("mls_group_info"));
  auto unknown = DecodeMlsMessage(FromHex("00010009").value());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnsupported);
  auto version = DecodeMlsMessage(FromHex("00020001").value());
  EXPECT_EQ(version.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(version.status().detail(), HasSubstr("MLSMessage.version"));
}

// A hand-built PublicMessage with an external sender and a remove proposal:
// no membership_tag follows, and nothing else is accepted after the auth data.
TEST(MlsFramingTest, ExternalSenderHasNoMembershipTag) {
  codec::Writer w;
  w.WriteU16(1);  // mls10
  w.WriteU16(1);  // mls_public_message
  w.WriteOpaque("group_id", ToBytes("g"));
  w.WriteU64(7);
  w.WriteU8(2);   // external
  w.WriteU32(5);  // sender_index
  w.WriteOpaque("authenticated_data", Bytes{});
  w.WriteU8(2);   // proposal
  w.WriteU16(3);  // remove
  w.WriteU32(1);
  w.WriteOpaque("signature", Bytes(64, 0xaa));
  const Bytes raw = std::move(w).Finish().value();
  auto msg = DecodeMlsMessage(raw);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->public_message->sender.type, SenderType::kExternal);
  EXPECT_EQ(msg->public_message->sender.index, 5u);
  EXPECT_FALSE(msg->sender_leaf_index().has_value());
  EXPECT_TRUE(msg->public_message->membership_tag.empty());
  Bytes longer = raw;
  longer.push_back(0);  // what a membership_tag of length 0 would be
  EXPECT_FALSE(DecodeMlsMessage(longer).ok());
}

TEST(MlsFramingTest, ApplicationDataInClearIsRefused) {
  codec::Writer w;
  w.WriteU16(1);
  w.WriteU16(1);
  w.WriteOpaque("group_id", ToBytes("g"));
  w.WriteU64(1);
  w.WriteU8(1);
  w.WriteU32(0);
  w.WriteOpaque("authenticated_data", Bytes{});
  w.WriteU8(1);  // application
  w.WriteOpaque("application_data", ToBytes("hi"));
  w.WriteOpaque("signature", Bytes(64, 0xaa));
  w.WriteOpaque("membership_tag", Bytes(32, 0xbb));
  auto msg = DecodeMlsMessage(std::move(w).Finish().value());
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(msg.status().detail(), HasSubstr("content_type"));
}

TEST(MlsFramingTest, JsonShowsTheMigrationTarget) {
  auto j = DecodeMlsMessageToJson(testing::ReadMlsHexFixture("commit_public_suite1.hex"));
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["wire_format"], "mls_public_message");
  EXPECT_EQ((*j)["content_type"], "commit");
  EXPECT_EQ((*j)["sender"]["leaf_index"], 1);
  EXPECT_EQ((*j)["migration_commit_aad"]["target_ds_domain"], "target.test");
  EXPECT_EQ((*j)["commit"]["path"]["leaf_node"]["credential"]["identity"], "bob");

  auto priv = DecodeMlsMessageToJson(testing::ReadMlsHexFixture("commit_private_suite2.hex"));
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  EXPECT_EQ((*priv)["migration_commit_aad"]["target_ds_domain"], "target.test");
  EXPECT_FALSE(priv->contains("sender"));
}

}  // namespace
}  // namespace mimi::mls
