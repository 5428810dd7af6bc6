#include "embedded_ds/member_request.h"

#include "codec/writer.h"
#include "crypto/ciphersuite.h"
#include "crypto/labeled_signature.h"
#include "crypto/public_key.h"

namespace mimi::embedded_ds {

Result<Bytes> MemberRequestTbs(const MemberRequest& req) {
  codec::Writer w;
  w.Reserve(req.body.size() + req.path.size() + req.group_id.size() + 32);
  w.WriteOpaque("DSMemberRequestTBS.method", ToBytes(req.method));
  w.WriteOpaque("DSMemberRequestTBS.path", ToBytes(req.path));
  w.WriteOpaque("DSMemberRequestTBS.group_id", req.group_id);
  w.WriteU64(req.epoch);
  w.WriteU32(req.sender);
  w.WriteOpaque("DSMemberRequestTBS.body", ToBytes(req.body));
  return std::move(w).Finish();
}

Status SignMemberRequest(const crypto::SigningKey& key, MemberRequest* req) {
  MIMI_ASSIGN_OR_RETURN(Bytes tbs, MemberRequestTbs(*req));
  MIMI_ASSIGN_OR_RETURN(req->signature,
                        crypto::SignWithLabel(key, kMemberRequestLabel, tbs));
  return Status::Ok();
}

Status VerifyMemberRequest(uint16_t cipher_suite, ByteSpan leaf_signature_key,
                           const MemberRequest& req) {
  MIMI_ASSIGN_OR_RETURN(crypto::CipherSuite cs, crypto::LookupCipherSuite(cipher_suite));
  auto key = crypto::PublicKey::Parse(cs.signature_scheme, leaf_signature_key);
  if (!key.ok()) {
    return Status(StatusCode::kBadSignature, "bad-signature",
                  "the signature key of leaf " + std::to_string(req.sender) +
                      " does not parse: " + key.status().detail());
  }
  MIMI_ASSIGN_OR_RETURN(Bytes tbs, MemberRequestTbs(req));
  Status s = crypto::VerifyWithLabel(*key, kMemberRequestLabel, tbs, req.signature);
  if (!s.ok()) {
    return Status(StatusCode::kBadSignature, "bad-signature",
                  "MIMI-Signature does not verify under the key of leaf " +
                      std::to_string(req.sender));
  }
  return s;
}

}  // namespace mimi::embedded_ds
