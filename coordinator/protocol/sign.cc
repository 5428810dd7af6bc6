#include "protocol/sign.h"

#include "codec/writer.h"
#include "crypto/labeled_signature.h"

namespace mimi::protocol {

Result<Bytes> SignAndEncodeContent(const ProtocolContext& ctx, uint16_t suite,
                                   const MigrationResponse& response,
                                   ByteSpan group_state) {
  MIMI_ASSIGN_OR_RETURN(auto key, ctx.keys->SigningKeyFor(suite));
  MIMI_ASSIGN_OR_RETURN(Bytes response_bytes, Encode(response));
  codec::Writer length_writer;
  length_writer.WriteVarint("MigrationContent.group_state", group_state.size());
  MIMI_ASSIGN_OR_RETURN(Bytes length, std::move(length_writer).Finish());
  // ToBeSigned(content) = response || group_state<V>.
  const size_t tbs_size =
      response_bytes.size() + length.size() + group_state.size();
  MIMI_ASSIGN_OR_RETURN(
      Bytes header, crypto::SignContentHeader(
                        SignatureLabel<MigrationContent>(), tbs_size));
  // Room for signature<V> too, so that appending it does not reallocate.
  constexpr size_t kSignatureRoom = 4 + 512;
  Bytes out;
  out.reserve(header.size() + tbs_size + kSignatureRoom);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), response_bytes.begin(), response_bytes.end());
  out.insert(out.end(), length.begin(), length.end());
  out.insert(out.end(), group_state.begin(), group_state.end());
  MIMI_ASSIGN_OR_RETURN(Bytes signature, key->Sign(out));
  out.erase(out.begin(), out.begin() + static_cast<ptrdiff_t>(header.size()));
  codec::Writer sig_writer;
  sig_writer.WriteOpaque("MigrationContent.signature", signature);
  MIMI_ASSIGN_OR_RETURN(Bytes encoded_signature, std::move(sig_writer).Finish());
  out.insert(out.end(), encoded_signature.begin(), encoded_signature.end());
  return out;
}

}  // namespace mimi::protocol
