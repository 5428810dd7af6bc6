// SignAndEncode: signs one of this DS's protocol messages with its key for
// the group's ciphersuite and serializes it — the last step of every message
// the source and target roles send. SignAndEncodeContent does the same for
// a MigrationContent without the copies of a large state that the generic
// path makes. Thread-safe (the key store is).
#ifndef MIMI_PROTOCOL_SIGN_H_
#define MIMI_PROTOCOL_SIGN_H_

#include "crypto/message_signing.h"
#include "mimi_portability/messages.h"
#include "protocol/context.h"

namespace mimi::protocol {

template <typename T>
Result<Bytes> SignAndEncode(const ProtocolContext& ctx, uint16_t suite, T* msg) {
  MIMI_ASSIGN_OR_RETURN(auto key, ctx.keys->SigningKeyFor(suite));
  MIMI_RETURN_IF_ERROR(crypto::SignMessage(*key, msg));
  return Encode(*msg);
}

// SignAndEncode(ctx, suite, &MigrationContent{response, group_state}), byte
// for byte, built in one buffer: the SignContent header and the response in
// front of the state, the content signed there, then the header dropped and
// the signature appended. When `group_state` has spare capacity for that
// (the embedded DS exports with room to spare) the buffer is its own, and
// no second copy of the state ever exists; otherwise the state is copied
// once into a new buffer.
Result<Bytes> SignAndEncodeContent(const ProtocolContext& ctx, uint16_t suite,
                                   const MigrationResponse& response,
                                   Bytes group_state);

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_SIGN_H_
