#include "mls/signature_checks.h"

#include <string>

#include "codec/writer.h"
#include "crypto/ciphersuite.h"
#include "crypto/labeled_signature.h"
#include "crypto/public_key.h"

namespace mimi::mls {
namespace {

Status Verify(uint16_t cipher_suite, ByteSpan key_bytes, std::string_view label,
              ByteSpan tbs, ByteSpan signature, const std::string& what) {
  MIMI_ASSIGN_OR_RETURN(crypto::CipherSuite cs, crypto::LookupCipherSuite(cipher_suite));
  auto key = crypto::PublicKey::Parse(cs.signature_scheme, key_bytes);
  if (!key.ok()) {
    return Status(StatusCode::kBadSignature,
                  what + ": the signer's signature key does not parse (" +
                      key.status().detail() + ")");
  }
  Status s = crypto::VerifyWithMlsLabel(*key, label, tbs, signature);
  if (!s.ok()) return Status(StatusCode::kBadSignature, what + ": " + s.detail());
  return s;
}

}  // namespace

Status VerifyGroupInfoSignature(const GroupInfo& info, ByteSpan signer_key) {
  return Verify(info.group_context.cipher_suite, signer_key, kGroupInfoTbsLabel,
                info.signed_fields, info.signature,
                "GroupInfo.signature (signer " + std::to_string(info.signer) + ")");
}

Bytes MemberFramedContentTbs(ByteSpan framed_content, ByteSpan group_context) {
  codec::Writer w;
  w.Reserve(framed_content.size() + group_context.size() + 4);
  w.WriteU16(kProtocolVersionMls10);
  w.WriteU16(static_cast<uint16_t>(WireFormat::kPublicMessage));
  w.WriteRaw(framed_content);
  w.WriteRaw(group_context);
  return std::move(w).Finish().value();  // raw writes cannot fail
}

Status VerifyPublicMessageSignature(uint16_t cipher_suite, const PublicMessage& msg,
                                    ByteSpan group_context, ByteSpan sender_key) {
  if (msg.sender.type != SenderType::kMember) {
    return InvalidArgumentError("PublicMessage sender is " +
                                std::string(SenderTypeName(msg.sender.type)) +
                                ", not a member");
  }
  return Verify(cipher_suite, sender_key, kFramedContentTbsLabel,
                MemberFramedContentTbs(msg.framed_content, group_context),
                msg.signature,
                "PublicMessage.auth.signature (leaf " +
                    std::to_string(msg.sender.index) + ")");
}

}  // namespace mimi::mls
