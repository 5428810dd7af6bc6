// SignWithLabel / VerifyWithLabel exactly as RFC 9420 §5.1.2 builds them,
// with this protocol's label prefix (docs/protocol.md §2.2):
//
//   struct {
//     opaque label<V>;    // "MIMI Portability 1.0 " + Label
//     opaque content<V>;
//   } SignContent;
//
// and the scheme's signature over the serialized SignContent. The different
// prefix keeps a client's MLS signature key from producing anything MLS
// itself would accept, and vice versa.
//
// The *MlsLabel variants use MLS's own prefix "MLS 1.0 ": a DS checks MLS
// signatures (GroupInfoTBS, FramedContentTBS) with them, never signs one
// except in tests that play a member.
//
// Pure functions; thread-safe.
#ifndef MIMI_CRYPTO_LABELED_SIGNATURE_H_
#define MIMI_CRYPTO_LABELED_SIGNATURE_H_

#include <string_view>

#include "crypto/public_key.h"
#include "crypto/signing_key.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"

namespace mimi::crypto {

inline constexpr std::string_view kLabelPrefix = "MIMI Portability 1.0 ";
inline constexpr std::string_view kMlsLabelPrefix = "MLS 1.0 ";

// The serialized SignContent for `label` (without the prefix) and `content`.
Result<Bytes> SignContent(std::string_view label, ByteSpan content);
// The same with an explicit prefix (kLabelPrefix or kMlsLabelPrefix).
Result<Bytes> SignContentWithPrefix(std::string_view prefix,
                                    std::string_view label, ByteSpan content);

// The bytes of SignContent(label, content) that come before `content`
// (label<V> and content's length prefix), for a content of `content_size`
// bytes: a caller that holds the content in a buffer with room in front of
// it writes these there and signs or verifies the whole, instead of copying
// a large content into a new SignContent.
Result<Bytes> SignContentHeader(std::string_view label, size_t content_size);

Result<Bytes> SignWithLabel(const SigningKey& key, std::string_view label,
                            ByteSpan content);
// OK, or kBadSignature when `signature` does not verify.
Status VerifyWithLabel(const PublicKey& key, std::string_view label,
                       ByteSpan content, ByteSpan signature);

// RFC 9420's own SignWithLabel / VerifyWithLabel ("MLS 1.0 " + label).
Result<Bytes> SignWithMlsLabel(const SigningKey& key, std::string_view label,
                               ByteSpan content);
Status VerifyWithMlsLabel(const PublicKey& key, std::string_view label,
                          ByteSpan content, ByteSpan signature);

}  // namespace mimi::crypto

#endif  // MIMI_CRYPTO_LABELED_SIGNATURE_H_
