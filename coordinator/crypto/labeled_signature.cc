#include "crypto/labeled_signature.h"

#include <string>

#include "codec/writer.h"

namespace mimi::crypto {

Result<Bytes> SignContent(std::string_view label, ByteSpan content) {
  return SignContentWithPrefix(kLabelPrefix, label, content);
}

Result<Bytes> SignContentWithPrefix(std::string_view prefix,
                                    std::string_view label, ByteSpan content) {
  std::string full_label(prefix);
  full_label += label;
  codec::Writer w;
  w.Reserve(full_label.size() + content.size() + 8);
  w.WriteOpaque("SignContent.label", ToBytes(full_label));
  w.WriteOpaque("SignContent.content", content);
  return std::move(w).Finish();
}

Result<Bytes> SignContentHeader(std::string_view label, size_t content_size) {
  std::string full_label(kLabelPrefix);
  full_label += label;
  codec::Writer w;
  w.WriteOpaque("SignContent.label", ToBytes(full_label));
  w.WriteVarint("SignContent.content", content_size);
  return std::move(w).Finish();
}

Result<Bytes> SignWithLabel(const SigningKey& key, std::string_view label,
                            ByteSpan content) {
  MIMI_ASSIGN_OR_RETURN(Bytes tbs, SignContent(label, content));
  return key.Sign(tbs);
}

Status VerifyWithLabel(const PublicKey& key, std::string_view label,
                       ByteSpan content, ByteSpan signature) {
  MIMI_ASSIGN_OR_RETURN(Bytes tbs, SignContent(label, content));
  return key.Verify(tbs, signature);
}

Result<Bytes> SignWithMlsLabel(const SigningKey& key, std::string_view label,
                               ByteSpan content) {
  MIMI_ASSIGN_OR_RETURN(Bytes tbs,
                        SignContentWithPrefix(kMlsLabelPrefix, label, content));
  return key.Sign(tbs);
}

Status VerifyWithMlsLabel(const PublicKey& key, std::string_view label,
                          ByteSpan content, ByteSpan signature) {
  MIMI_ASSIGN_OR_RETURN(Bytes tbs,
                        SignContentWithPrefix(kMlsLabelPrefix, label, content));
  return key.Verify(tbs, signature);
}

}  // namespace mimi::crypto
