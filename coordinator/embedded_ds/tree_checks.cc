#include "embedded_ds/tree_checks.h"

#include <string>
#include <utility>

#include "embedded_ds/refusals.h"
#include "mls/ratchet_tree.h"
#include "mls/signature_checks.h"
#include "mls/tree_hash.h"

namespace mimi::embedded_ds {

Status CheckTree(ByteSpan tree) {
  return mls::WalkRatchetTree(tree, mls::RatchetTreeVisitor{});
}

Result<std::optional<Bytes>> FindLeafSignatureKey(ByteSpan tree,
                                                  uint32_t leaf) {
  std::optional<Bytes> key;
  mls::RatchetTreeVisitor find;
  find.on_leaf = [&key, leaf](uint32_t index, mls::LeafNode& node, bool* stop) {
    if (index == leaf) key = std::move(node.signature_key);
    *stop = index >= leaf;
    return Status::Ok();
  };
  MIMI_RETURN_IF_ERROR(mls::WalkRatchetTree(tree, find));
  return key;
}

Result<Bytes> LeafSignatureKey(ByteSpan tree, uint32_t leaf,
                               std::string_view whose) {
  MIMI_ASSIGN_OR_RETURN(std::optional<Bytes> key,
                        FindLeafSignatureKey(tree, leaf));
  if (!key) {
    return Status(StatusCode::kPermissionDenied, "not-a-member",
                  std::string(whose) + ": leaf " + std::to_string(leaf) +
                      " is not a member of the group");
  }
  return *std::move(key);
}

uint32_t CountMembers(ByteSpan tree) {
  uint32_t members = 0;
  mls::RatchetTreeVisitor count;
  count.on_leaf = [&members](uint32_t, mls::LeafNode&, bool*) {
    ++members;
    return Status::Ok();
  };
  (void)mls::WalkRatchetTree(tree, count);
  return members;
}

Result<mls::GroupInfo> CheckGroupInfo(ByteSpan group_info_message,
                                      ByteSpan tree) {
  auto info = mls::DecodeGroupInfoMessage(group_info_message);
  if (!info.ok()) return BadGroupInfo(info.status().detail());
  const mls::GroupContext& ctx = info->group_context;
  auto hash = mls::RatchetTreeHash(ctx.cipher_suite, tree);
  if (!hash.ok()) {
    return Status(hash.status().code(), hash.status().detail());
  }
  if (*hash != ctx.tree_hash) {
    return Status(StatusCode::kInvalidArgument, "tree-hash-mismatch",
                  "GroupInfo.group_context.tree_hash " + ToHex(ctx.tree_hash) +
                      " is not the tree hash of ratchet_tree (" + ToHex(*hash) +
                      ")");
  }
  auto key = LeafSignatureKey(tree, info->signer, "GroupInfo.signer");
  if (!key.ok()) {
    return Status(StatusCode::kBadSignature, "bad-signature",
                  key.status().detail());
  }
  Status verified = mls::VerifyGroupInfoSignature(*info, *key);
  if (!verified.ok()) {
    return Status(StatusCode::kBadSignature, "bad-signature",
                  verified.detail());
  }
  return info;
}

}  // namespace mimi::embedded_ds
