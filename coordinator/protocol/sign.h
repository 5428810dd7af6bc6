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
// for byte, built in one buffer: the SignContent header, then the content
// being signed in place, then the signature appended. Besides group_state
// only that buffer is alive (the generic path holds the state, its
// ToBeSigned, the SignContent and the encoding).
Result<Bytes> SignAndEncodeContent(const ProtocolContext& ctx, uint16_t suite,
                                   const MigrationResponse& response,
                                   ByteSpan group_state);

}  // namespace mimi::protocol

#endif  // MIMI_PROTOCOL_SIGN_H_
