// The fuzz property of the RFC 9420 MLSMessage framing reader
// (coordinator/mls/mls_message.h), shared by the libFuzzer target
// fuzz_MLSMessage (fuzz_target.cc with MIMI_FUZZ_CHECK=mimi::CheckMlsMessage)
// and the corpus replay in tests/fuzz_corpus_test.cc:
//
//   - an input is either rejected with kMalformed, kUnsupported (another
//     wire format, credential or proposal type) or kInvalidArgument (a rule
//     broken, e.g. application data in clear) and a detail naming the field
//     ("MLSMessage.<...>" or "MLSMessage: ..."), or
//   - it is accepted, and framing the decoded fields again (a PublicMessage's
//     FramedContent from the bytes the reader captured) gives back exactly
//     the input, and its JSON view prints.
//
// fuzz::CheckRoundTrip does not fit as is: it allows only kMalformed, and the
// reader keeps only what a DS uses of commit bodies, so FramedContent cannot
// be re-encoded field by field; the re-framing checks its captured range.
// Pure; thread-safe.
#ifndef MIMI_TESTS_FUZZ_FUZZ_MLS_MESSAGE_H_
#define MIMI_TESTS_FUZZ_FUZZ_MLS_MESSAGE_H_

#include <algorithm>
#include <string>

#include "codec/json_text.h"
#include "codec/writer.h"
#include "mimi_portability/bytes.h"
#include "mimi_portability/status.h"
#include "mls/mls_json.h"
#include "mls/mls_message.h"

namespace mimi {
namespace fuzz_mls {

inline Result<Bytes> ReFrame(const mls::MlsMessage& m) {
  codec::Writer w;
  w.WriteU16(m.version);
  w.WriteU16(static_cast<uint16_t>(m.wire_format));
  if (const auto& pub = m.public_message) {
    w.WriteRaw(pub->framed_content);
    w.WriteOpaque("signature", pub->signature);
    if (pub->content_type == mls::ContentType::kCommit) {
      w.WriteOpaque("confirmation_tag", pub->confirmation_tag);
    }
    if (pub->sender.type == mls::SenderType::kMember) {
      w.WriteOpaque("membership_tag", pub->membership_tag);
    }
  } else if (const auto& priv = m.private_message) {
    w.WriteOpaque("group_id", priv->group_id);
    w.WriteU64(priv->epoch);
    w.WriteU8(static_cast<uint8_t>(priv->content_type));
    w.WriteOpaque("authenticated_data", priv->authenticated_data);
    w.WriteOpaque("encrypted_sender_data", priv->encrypted_sender_data);
    w.WriteOpaque("ciphertext", priv->ciphertext);
  }
  return std::move(w).Finish();
}

}  // namespace fuzz_mls

inline std::string CheckMlsMessage(ByteSpan input, bool* accepted) {
  auto decoded = mls::DecodeMlsMessage(input);
  if (accepted != nullptr) *accepted = decoded.ok();
  if (!decoded.ok()) {
    const Status& s = decoded.status();
    if (s.code() != StatusCode::kMalformed && s.code() != StatusCode::kUnsupported &&
        s.code() != StatusCode::kInvalidArgument) {
      return "MLSMessage: rejected with an unexpected code: " + s.ToString();
    }
    if (!s.detail().starts_with("MLSMessage.") && !s.detail().starts_with("MLSMessage:")) {
      return "MLSMessage: error detail does not name the field: " + s.detail();
    }
    return "";
  }
  const bool is_public = decoded->wire_format == mls::WireFormat::kPublicMessage;
  if (is_public != decoded->public_message.has_value() ||
      is_public == decoded->private_message.has_value()) {
    return "MLSMessage: wire format and decoded body disagree";
  }
  auto framed = fuzz_mls::ReFrame(*decoded);
  if (!framed.ok()) {
    return "MLSMessage: accepted input does not re-frame: " + framed.status().ToString();
  }
  if (!std::equal(framed->begin(), framed->end(), input.begin(), input.end())) {
    return "MLSMessage: re-framing differs from the input: in " + ToHex(input) +
           " out " + ToHex(*framed);
  }
  (void)mimi::codec::DumpJson(
      mls::ToJson(*decoded));  // throws, and so aborts, on bad UTF-8
  return "";
}

}  // namespace mimi

#endif  // MIMI_TESTS_FUZZ_FUZZ_MLS_MESSAGE_H_
