#include "protocol/sign.h"

#include <utility>

#include "codec/writer.h"
#include "crypto/labeled_signature.h"

namespace mimi::protocol {

Result<Bytes> SignAndEncodeContent(const ProtocolContext& ctx, uint16_t suite,
                                   const MigrationResponse& response,
                                   Bytes group_state) {
  MIMI_ASSIGN_OR_RETURN(auto key, ctx.keys->SigningKeyFor(suite));
  codec::Writer prefix_writer;
  MIMI_ASSIGN_OR_RETURN(Bytes response_bytes, Encode(response));
  // ToBeSigned(content) = response || group_state<V>.
  prefix_writer.WriteRaw(response_bytes);
  prefix_writer.WriteVarint("MigrationContent.group_state", group_state.size());
  MIMI_ASSIGN_OR_RETURN(Bytes prefix, std::move(prefix_writer).Finish());
  const size_t tbs_size = prefix.size() + group_state.size();
  MIMI_ASSIGN_OR_RETURN(
      Bytes header, crypto::SignContentHeader(
                        SignatureLabel<MigrationContent>(), tbs_size));
  prefix.insert(prefix.begin(), header.begin(), header.end());
  // Room for signature<V> too, so that appending it does not reallocate.
  constexpr size_t kSignatureRoom = 4 + 512;
  const size_t needed = prefix.size() + group_state.size() + kSignatureRoom;
  Bytes out;
  if (group_state.capacity() >= needed) {
    // Shifted within its own allocation.
    out = std::move(group_state);
    out.insert(out.begin(), prefix.begin(), prefix.end());
  } else {
    out.reserve(needed);
    out.insert(out.end(), prefix.begin(), prefix.end());
    out.insert(out.end(), group_state.begin(), group_state.end());
    Bytes().swap(group_state);
  }
  MIMI_ASSIGN_OR_RETURN(Bytes signature, key->Sign(out));
  out.erase(out.begin(), out.begin() + static_cast<ptrdiff_t>(header.size()));
  codec::Writer sig_writer;
  sig_writer.WriteOpaque("MigrationContent.signature", signature);
  MIMI_ASSIGN_OR_RETURN(Bytes encoded_signature, std::move(sig_writer).Finish());
  out.insert(out.end(), encoded_signature.begin(), encoded_signature.end());
  return out;
}

}  // namespace mimi::protocol
