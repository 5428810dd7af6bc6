#include "testing/synthetic_mls.h"

#include "codec/writer.h"
#include "mls/group_info.h"
#include "mls/mls_message.h"
#include "mls/signature_checks.h"
#include "mls/tree_hash.h"
#include "crypto/labeled_signature.h"

namespace mimi::testing {
namespace {

using codec::Writer;

Bytes Finish(Writer& w) { return std::move(w).Finish().value(); }

void Opaque(Writer& w, ByteSpan b) { w.WriteOpaque("synthetic", b); }

void U16Vector(Writer& w, const std::vector<uint16_t>& values) {
  Writer inner;
  for (uint16_t v : values) inner.WriteU16(v);
  Opaque(w, Finish(inner));
}

void LeafNode(Writer& w, uint16_t suite, const SyntheticMember& m) {
  Opaque(w, Bytes(32, 0x11));           // encryption_key
  Opaque(w, m.signature_key);           // signature_key
  w.WriteU16(1);                        // credential_type basic
  Opaque(w, ToBytes(m.identity));       // identity
  U16Vector(w, {1});                    // capabilities.versions: mls10
  U16Vector(w, {suite});                // capabilities.cipher_suites
  U16Vector(w, {});                     // capabilities.extensions
  U16Vector(w, {});                     // capabilities.proposals
  U16Vector(w, {1});                    // capabilities.credentials: basic
  w.WriteU8(1);                         // leaf_node_source: key_package
  w.WriteU64(0);                        // lifetime.not_before
  w.WriteU64(~uint64_t{0});             // lifetime.not_after
  Opaque(w, {});                        // extensions
  Opaque(w, Bytes(64, 0x5a));           // signature (placeholder)
}

void MessageHeader(Writer& w, uint16_t wire_format) {
  w.WriteU16(1);  // mls10
  w.WriteU16(wire_format);
}

// FramedContent of a commit (content_type 3) or a Remove proposal (2).
Bytes FramedContent(ByteSpan group_id, uint64_t epoch, uint32_t sender_leaf,
                    ByteSpan aad, uint8_t content_type) {
  Writer w;
  Opaque(w, group_id);
  w.WriteU64(epoch);
  w.WriteU8(1);  // sender_type member
  w.WriteU32(sender_leaf);
  Opaque(w, aad);
  w.WriteU8(content_type);
  if (content_type == 3) {
    Opaque(w, {});  // proposals
    w.WriteU8(0);   // optional<UpdatePath>: absent
  } else {
    w.WriteU16(3);  // proposal_type remove
    w.WriteU32(0);  // removed leaf
  }
  return Finish(w);
}

Bytes PublicMessage(ByteSpan framed_content, ByteSpan signature, uint8_t content_type) {
  Writer w;
  MessageHeader(w, 1);
  w.WriteRaw(framed_content);
  Opaque(w, signature);
  if (content_type == 3) Opaque(w, Bytes(32, 0x5c));  // confirmation_tag
  Opaque(w, Bytes(32, 0x5d));                         // membership_tag
  return Finish(w);
}

Bytes PublicMessage(ByteSpan group_id, uint64_t epoch, uint32_t sender_leaf,
                    ByteSpan aad, uint8_t content_type) {
  return PublicMessage(FramedContent(group_id, epoch, sender_leaf, aad, content_type),
                       Bytes(64, 0x5b), content_type);
}

Bytes SignedPublicMessage(ByteSpan group_info, uint32_t sender_leaf, ByteSpan aad,
                          const crypto::SigningKey& key, uint8_t content_type) {
  const mls::GroupInfo info = mls::DecodeGroupInfoMessage(group_info).value();
  const Bytes content = FramedContent(info.group_context.group_id,
                                      info.group_context.epoch, sender_leaf, aad,
                                      content_type);
  const Bytes signature =
      crypto::SignWithMlsLabel(key, mls::kFramedContentTbsLabel,
                               mls::MemberFramedContentTbs(content, info.group_context_bytes))
          .value();
  return PublicMessage(content, signature, content_type);
}

}  // namespace

Bytes SyntheticRatchetTree(uint16_t suite, const std::vector<SyntheticMember>& members) {
  Writer nodes;
  for (size_t i = 0; i < members.size(); ++i) {
    if (i > 0) nodes.WriteU8(0);  // blank parent between leaves
    nodes.WriteU8(1);             // present
    nodes.WriteU8(1);             // node_type leaf
    LeafNode(nodes, suite, members[i]);
  }
  Writer w;
  Opaque(w, Finish(nodes));
  return Finish(w);
}

Bytes SyntheticGroupInfo(uint16_t suite, ByteSpan group_id, uint64_t epoch,
                         ByteSpan ratchet_tree, uint32_t signer,
                         const crypto::SigningKey& key) {
  Writer tbs;
  tbs.WriteU16(1);  // group_context.version
  tbs.WriteU16(suite);
  Opaque(tbs, group_id);
  tbs.WriteU64(epoch);
  Opaque(tbs, mls::RatchetTreeHash(suite, ratchet_tree).value());  // tree_hash
  Opaque(tbs, Bytes(32, 0x22));  // confirmed_transcript_hash
  Opaque(tbs, {});               // group_context.extensions
  Opaque(tbs, {});               // extensions
  Opaque(tbs, Bytes(32, 0x23));  // confirmation_tag
  tbs.WriteU32(signer);
  const Bytes signed_fields = Finish(tbs);
  Writer w;
  MessageHeader(w, 4);
  w.WriteRaw(signed_fields);
  Opaque(w, crypto::SignWithMlsLabel(key, mls::kGroupInfoTbsLabel, signed_fields).value());
  return Finish(w);
}

Bytes SyntheticSignedCommit(ByteSpan group_info, uint32_t sender_leaf,
                            ByteSpan authenticated_data, const crypto::SigningKey& key) {
  return SignedPublicMessage(group_info, sender_leaf, authenticated_data, key, 3);
}

Bytes SyntheticSignedProposal(ByteSpan group_info, uint32_t sender_leaf,
                              ByteSpan authenticated_data, const crypto::SigningKey& key) {
  return SignedPublicMessage(group_info, sender_leaf, authenticated_data, key, 2);
}

Bytes SyntheticPublicCommit(ByteSpan group_id, uint64_t epoch, uint32_t sender_leaf,
                            ByteSpan authenticated_data) {
  return PublicMessage(group_id, epoch, sender_leaf, authenticated_data, 3);
}

Bytes SyntheticPublicProposal(ByteSpan group_id, uint64_t epoch, uint32_t sender_leaf,
                              ByteSpan authenticated_data) {
  return PublicMessage(group_id, epoch, sender_leaf, authenticated_data, 2);
}

Bytes SyntheticPrivateMessage(ByteSpan group_id, uint64_t epoch, uint8_t content_type,
                              ByteSpan authenticated_data) {
  Writer w;
  MessageHeader(w, 2);
  Opaque(w, group_id);
  w.WriteU64(epoch);
  w.WriteU8(content_type);
  Opaque(w, authenticated_data);
  Opaque(w, Bytes(40, 0x31));  // encrypted_sender_data
  Opaque(w, Bytes(80, 0x32));  // ciphertext
  return Finish(w);
}

}  // namespace mimi::testing
