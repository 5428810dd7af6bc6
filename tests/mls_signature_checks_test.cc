// GroupInfo and PublicMessage signature checks against what ts-mls 1.6.4
// made (tests/data/mls: Bob's GroupInfo at epoch 1, his public commit and
// proposal at epoch 1, the tree of that epoch), and against tampering.
#include "mls/signature_checks.h"

#include <gtest/gtest.h>

#include "mls/group_info.h"
#include "mls/mls_message.h"
#include "mls/ratchet_tree.h"
#include "testing/mls_fixtures.h"

namespace mimi::mls {
namespace {

class SignatureChecksTest : public ::testing::TestWithParam<int> {
 protected:
  std::string Name(const std::string& kind) const {
    return kind + "_suite" + std::to_string(GetParam()) + ".hex";
  }
  void SetUp() override {
    info_ = DecodeGroupInfo(testing::ReadMlsHexFixture(Name("group_info"))).value();
    tree_ = DecodeRatchetTree(testing::ReadMlsHexFixture(Name("ratchet_tree"))).value();
  }
  Bytes KeyOf(uint32_t leaf) const { return tree_.Leaf(leaf)->signature_key; }

  GroupInfo info_;
  RatchetTree tree_;
};

TEST_P(SignatureChecksTest, GroupInfoVerifiesUnderItsSignerOnly) {
  ASSERT_EQ(info_.signer, 1u);
  EXPECT_TRUE(VerifyGroupInfoSignature(info_, KeyOf(1)).ok());
  EXPECT_EQ(VerifyGroupInfoSignature(info_, KeyOf(0)).code(), StatusCode::kBadSignature);
  GroupInfo tampered = info_;
  tampered.signed_fields.back() ^= 1;  // the signer index
  EXPECT_EQ(VerifyGroupInfoSignature(tampered, KeyOf(1)).code(),
            StatusCode::kBadSignature);
  EXPECT_EQ(VerifyGroupInfoSignature(info_, Bytes{1, 2, 3}).code(),
            StatusCode::kBadSignature);
}

TEST_P(SignatureChecksTest, PublicCommitAndProposalVerifyWithTheEpochContext) {
  for (const char* kind : {"commit_public", "proposal"}) {
    SCOPED_TRACE(kind);
    auto msg = DecodeMlsMessage(testing::ReadMlsHexFixture(Name(kind)));
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    const PublicMessage& pm = *msg->public_message;
    const uint16_t suite = info_.group_context.cipher_suite;
    EXPECT_TRUE(VerifyPublicMessageSignature(suite, pm, info_.group_context_bytes,
                                             KeyOf(pm.sender.index))
                    .ok());
    // Another member's key, another epoch's context, a changed body.
    EXPECT_EQ(VerifyPublicMessageSignature(suite, pm, info_.group_context_bytes, KeyOf(2))
                  .code(),
              StatusCode::kBadSignature);
    Bytes other_context = info_.group_context_bytes;
    other_context[other_context.size() / 2] ^= 1;
    EXPECT_EQ(VerifyPublicMessageSignature(suite, pm, other_context,
                                           KeyOf(pm.sender.index))
                  .code(),
              StatusCode::kBadSignature);
    PublicMessage changed = pm;
    changed.framed_content.back() ^= 1;
    EXPECT_EQ(VerifyPublicMessageSignature(suite, changed, info_.group_context_bytes,
                                           KeyOf(pm.sender.index))
                  .code(),
              StatusCode::kBadSignature);
  }
}

INSTANTIATE_TEST_SUITE_P(TsMls, SignatureChecksTest, ::testing::Values(1, 2));

}  // namespace
}  // namespace mimi::mls
