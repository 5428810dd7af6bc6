#include "mls/mls_json.h"

#include "codec/json.h"
#include "mimi_portability/messages.h"

namespace mimi::mls {
namespace {

using nlohmann::json;

json CredentialToJson(const Credential& c) {
  json out = {{"credential_type", c.type == kCredentialBasic  ? json("basic")
                                  : c.type == kCredentialX509 ? json("x509")
                                                              : json(c.type)}};
  if (c.type == kCredentialBasic) out["identity"] = codec::DomainToJson(c.identity);
  if (c.type == kCredentialX509) {
    json certs = json::array();
    for (const auto& cert : c.certificates) certs.push_back(ToHex(cert));
    out["certificates"] = certs;
  }
  return out;
}

json ProposalToJson(const Proposal& p) {
  json out = {{"proposal_type", ProposalTypeName(p.type)}};
  if (p.add) {
    out["cipher_suite"] = p.add->cipher_suite;
    out["leaf_node"] = ToJson(p.add->leaf_node);
  }
  if (p.update) out["leaf_node"] = ToJson(*p.update);
  if (p.type == ProposalType::kRemove) out["removed"] = p.removed;
  return out;
}

json CommitToJson(const Commit& c) {
  json proposals = json::array();
  for (const auto& p : c.proposals) {
    proposals.push_back(p.proposal ? ProposalToJson(*p.proposal)
                                   : json{{"reference", ToHex(p.reference)}});
  }
  json out = {{"proposals", proposals}};
  if (c.path) {
    out["path"] = {{"leaf_node", ToJson(c.path->leaf_node)},
                   {"nodes", c.path->nodes.size()}};
  } else {
    out["path"] = nullptr;
  }
  return out;
}

}  // namespace

json ToJson(const LeafNode& leaf) {
  json out = {{"encryption_key", ToHex(leaf.encryption_key)},
              {"signature_key", ToHex(leaf.signature_key)},
              {"credential", CredentialToJson(leaf.credential)},
              {"leaf_node_source", LeafNodeSourceName(leaf.source)}};
  if (leaf.source == LeafNodeSource::kKeyPackage) {
    out["lifetime"] = {{"not_before", leaf.lifetime.not_before},
                       {"not_after", leaf.lifetime.not_after}};
  }
  if (leaf.source == LeafNodeSource::kCommit) out["parent_hash"] = ToHex(leaf.parent_hash);
  json extensions = json::array();
  for (const auto& e : leaf.extensions) extensions.push_back(e.type);
  out["extension_types"] = extensions;
  out["signature"] = ToHex(leaf.signature);
  return out;
}

json ToJson(const MlsMessage& msg) {
  json out = {{"version", msg.version == kProtocolVersionMls10 ? json("mls10")
                                                               : json(msg.version)},
              {"wire_format", WireFormatName(static_cast<uint16_t>(msg.wire_format))},
              {"group_id", ToHex(msg.group_id())},
              {"epoch", msg.epoch()},
              {"content_type", ContentTypeName(msg.content_type())},
              {"authenticated_data", ToHex(msg.authenticated_data())}};
  if (msg.content_type() == ContentType::kCommit) {
    auto aad = Decode<MigrationCommitAAD>(msg.authenticated_data());
    out["migration_commit_aad"] = aad.ok() ? codec::ToJson(*aad) : json(nullptr);
  }
  if (const auto& pub = msg.public_message) {
    json sender = {{"sender_type", SenderTypeName(pub->sender.type)}};
    if (pub->sender.type == SenderType::kMember) sender["leaf_index"] = pub->sender.index;
    if (pub->sender.type == SenderType::kExternal) sender["sender_index"] = pub->sender.index;
    out["sender"] = sender;
    if (pub->commit) out["commit"] = CommitToJson(*pub->commit);
    if (pub->proposal) out["proposal"] = ProposalToJson(*pub->proposal);
    out["signature"] = ToHex(pub->signature);
    if (pub->content_type == ContentType::kCommit) {
      out["confirmation_tag"] = ToHex(pub->confirmation_tag);
    }
    if (pub->sender.type == SenderType::kMember) {
      out["membership_tag"] = ToHex(pub->membership_tag);
    }
  }
  if (const auto& priv = msg.private_message) {
    out["encrypted_sender_data"] = ToHex(priv->encrypted_sender_data);
    out["ciphertext_length"] = priv->ciphertext.size();
  }
  return out;
}

json ToJson(const RatchetTree& tree) {
  json leaves = json::array();
  for (uint32_t i = 0; i < tree.leaf_count(); ++i) {
    const LeafNode* leaf = tree.Leaf(i);
    if (leaf == nullptr) continue;
    leaves.push_back({{"leaf_index", i},
                      {"signature_key", ToHex(leaf->signature_key)},
                      {"credential", CredentialToJson(leaf->credential)}});
  }
  return json{{"node_count", tree.nodes.size()}, {"leaves", leaves}};
}

Result<json> DecodeMlsMessageToJson(ByteSpan bytes) {
  MIMI_ASSIGN_OR_RETURN(MlsMessage msg, DecodeMlsMessage(bytes));
  return ToJson(msg);
}

}  // namespace mimi::mls
