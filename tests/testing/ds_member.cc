#include "testing/ds_member.h"

#include <nlohmann/json.hpp>

#include "codec/json_text.h"
#include "crypto/ciphersuite.h"
#include "embedded_ds/member_request.h"

namespace mimi::testing {

httplib::Headers ClientTokenHeaders(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

httplib::Headers MemberHeaders(const crypto::SigningKey& key, uint32_t sender,
                               uint64_t epoch, std::string_view method,
                               std::string_view path, ByteSpan group_id,
                               std::string_view body) {
  embedded_ds::MemberRequest req;
  req.method = std::string(method);
  req.path = std::string(path);
  req.group_id.assign(group_id.begin(), group_id.end());
  req.epoch = epoch;
  req.sender = sender;
  req.body = std::string(body);
  (void)embedded_ds::SignMemberRequest(key, &req).ok();
  return {{embedded_ds::kSenderHeader, std::to_string(sender)},
          {embedded_ds::kEpochHeader, std::to_string(epoch)},
          {embedded_ds::kSignatureHeader, ToHex(req.signature)}};
}

SyntheticGroup SyntheticGroup::Make(uint16_t suite, Bytes group_id, uint64_t epoch,
                                    size_t members, const std::string& name) {
  SyntheticGroup g;
  g.suite_ = suite;
  g.group_id_ = std::move(group_id);
  g.epoch_ = epoch;
  const auto scheme = crypto::LookupCipherSuite(suite).value().signature_scheme;
  for (size_t i = 0; i < members; ++i) {
    g.keys_.push_back(crypto::SigningKey::Generate(scheme).value());
    g.members_.push_back({name + "-" + std::to_string(i), g.keys_.back().public_key().encoded()});
  }
  g.tree_ = SyntheticRatchetTree(suite, g.members_);
  g.group_info_ = SyntheticGroupInfo(suite, g.group_id_, epoch, g.tree_, 0, g.keys_[0]);
  return g;
}

std::string SyntheticGroup::Path(std::string_view suffix) const {
  return "/ds/v1/groups/" + ToHex(group_id_) + std::string(suffix);
}

std::string SyntheticGroup::CreateBody() const {
  return mimi::codec::DumpJson(nlohmann::json{
      {"group_info", ToHex(group_info_)}, {"ratchet_tree", ToHex(tree_)}});
}

httplib::Headers SyntheticGroup::Headers(uint32_t sender, std::string_view method,
                                         std::string_view path,
                                         std::string_view body) const {
  return MemberHeaders(keys_.at(sender), sender, epoch_, method, path, group_id_, body);
}

PreparedCommit SyntheticGroup::PrepareCommit(uint32_t sender,
                                             ByteSpan authenticated_data) const {
  PreparedCommit c;
  c.commit = SyntheticSignedCommit(group_info_, sender, authenticated_data, keys_.at(sender));
  c.group_info =
      SyntheticGroupInfo(suite_, group_id_, epoch_ + 1, tree_, sender, keys_.at(sender));
  c.body = mimi::codec::DumpJson(
      nlohmann::json{{"commit", ToHex(c.commit)},
                     {"ratchet_tree", ToHex(tree_)},
                     {"group_info", ToHex(c.group_info)}});
  return c;
}

void SyntheticGroup::Advance(const PreparedCommit& commit) {
  ++epoch_;
  group_info_ = commit.group_info;
}

std::string SyntheticGroup::ProposalBody(uint32_t sender) const {
  return mimi::codec::DumpJson(nlohmann::json{
      {"message", ToHex(SyntheticSignedProposal(group_info_, sender, {},
                                                keys_.at(sender)))}});
}

}  // namespace mimi::testing
